package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/link"
	"ctq/sync/node"
)

// fakeNode records the requests and answers with fixed data. Its fields
// are read and set under mu once it is served (locked).
type fakeNode struct {
	mu                        sync.Mutex
	flushed                   [2]bool
	resynced, refreshed, bulk bool
	purged                    bool
	external                  []engine.Flow
	// tables records the commits, refreshes and kernel flushes with the
	// tables they were asked for ("commit 1").
	tables []string
	// commit is what Commit returns, with commitErr (a commit of nothing
	// by default).
	commit    node.CommitResult
	commitErr error
}

func (f *fakeNode) DumpFlows(_ context.Context, external bool, yield func(*engine.Flow, time.Time) error) error {
	if !external {
		return nil
	}
	for i := range f.external {
		if err := yield(&f.external[i], time.Unix(1795459700, 0)); err != nil {
			return err
		}
	}
	return errors.New("cache went away")
}
func (f *fakeNode) RequestResync(context.Context) error {
	f.locked(func() { f.resynced = true })
	return nil
}
func (f *fakeNode) InternalExpect(context.Context) ([]cache.ExpectEntry, error) { return nil, nil }
func (f *fakeNode) ExternalExpect(context.Context) ([]cache.ExpectEntry, error) {
	var e cache.ExpectEntry
	x := &e.Expect
	x.Family, x.Proto, x.ProtoNum = "ipv4", "tcp", engine.ProtoTCP
	x.Src, x.Dst = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	x.Sport, x.Dport, x.Timeout = 0, 40000, 300
	x.MasterSrc, x.MasterDst = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	x.MasterProtoNum, x.MasterSport, x.MasterDport = engine.ProtoTCP, 5000, 21
	return []cache.ExpectEntry{e}, nil
}
func (f *fakeNode) FlushCaches(_ context.Context, i, e bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushed = [2]bool{i, e}
	return nil
}
func (f *fakeNode) FlushKernel(_ context.Context, t node.Tables) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tables = append(f.tables, fmt.Sprint("flush ", t))
	return 3, nil
}
func (f *fakeNode) Refresh(_ context.Context, t node.Tables) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshed = true
	f.tables = append(f.tables, fmt.Sprint("refresh ", t))
	return nil
}
func (f *fakeNode) BulkSend(context.Context) error { f.locked(func() { f.bulk = true }); return nil }
func (f *fakeNode) Purge(context.Context) error    { f.locked(func() { f.purged = true }); return nil }
func (f *fakeNode) Stats(context.Context) (node.Stats, error) {
	s := node.Stats{}
	s.External.Active = 7
	return s, nil
}
func (f *fakeNode) Commit(_ context.Context, t node.Tables) (node.CommitResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tables = append(f.tables, fmt.Sprint("commit ", t))
	return f.commit, f.commitErr
}

// locked runs fn with f's fields to itself.
func (f *fakeNode) locked(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// serveFake serves fake on a control socket until shutdown or the end of
// the test; stop is called after a stop request. shutdown returns what
// Serve returned.
func serveFake(t *testing.T, fake *fakeNode, stop func()) (path string, ctx context.Context, shutdown func() error) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "c.sock")
	srv, err := Listen(path, fake, stop)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	shutdown = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() { shutdown() })
	return path, ctx, shutdown
}

func TestServer(t *testing.T) {
	fl := engine.Flow{Family: "ipv4", Proto: "udp", ProtoNum: engine.ProtoUDP,
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Sport: 1000, Dport: 53,
		ReplySrc: netip.MustParseAddr("192.0.2.2"), ReplyDst: netip.MustParseAddr("192.0.2.1"), ReplySport: 53, ReplyDport: 1000}
	fake := &fakeNode{external: []engine.Flow{fl, fl}}
	stopped := make(chan struct{})
	path, ctx, shutdown := serveFake(t, fake, func() { close(stopped) })
	if _, err := Listen(path, fake, nil); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Listen: %v", err)
	}

	body, err := Do(ctx, path, Request{Verb: VerbStatus})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(body, func(l string) bool { return strings.Contains(l, "active entries:") && strings.Contains(l, " 7 ") }) {
		t.Errorf("status body lacks the external count:\n%s", strings.Join(body, "\n"))
	}
	// A dump that fails on the way: the lines sent, then the error.
	var lines []string
	err = Stream(ctx, path, Request{Verb: VerbDump, Arg: "external"}, func(l string) error {
		lines = append(lines, l)
		return nil
	})
	var re *RemoteError
	if len(lines) != 2 || !strings.Contains(lines[0], "src=192.0.2.1 dst=192.0.2.2") || !errors.As(err, &re) || re.Msg != "cache went away" {
		t.Errorf("dump: %q, %v", lines, err)
	}
	if body, err = Do(ctx, path, Request{Verb: VerbDump, Arg: "internal"}); err != nil || len(body) != 0 {
		t.Errorf("dump internal: %q, %v", body, err)
	}
	if body, err = Do(ctx, path, Request{Verb: VerbDump, Arg: "external expect"}); err != nil || len(body) != 1 ||
		!strings.Contains(body[0], "src=192.0.2.1 dst=192.0.2.2 sport=0 dport=40000") || !strings.Contains(body[0], "master-src=192.0.2.1") {
		t.Errorf("dump external expect: %q, %v", body, err)
	}
	if body, err = Do(ctx, path, Request{Verb: VerbFlush, Arg: "kernel"}); err != nil || len(body) != 1 || body[0] != "3 entries deleted from the kernel table" {
		t.Errorf("flush kernel: %q, %v", body, err)
	}
	for _, tt := range []struct {
		arg  string
		want [2]bool
	}{{"", [2]bool{true, true}}, {"internal", [2]bool{true, false}}, {"external", [2]bool{false, true}}} {
		_, err := Do(ctx, path, Request{Verb: VerbFlush, Arg: tt.arg})
		fake.locked(func() {
			if err != nil || fake.flushed != tt.want {
				t.Errorf("flush %s: %v (flushed %v)", tt.arg, err, fake.flushed)
			}
		})
	}
	for _, v := range []string{VerbResync, VerbRefresh, VerbBulk, VerbPurge} {
		if _, err := Do(ctx, path, Request{Verb: v}); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	fake.locked(func() {
		if !fake.resynced || !fake.refreshed || !fake.bulk || !fake.purged {
			t.Errorf("requests not passed on: resync %v, refresh %v, bulk %v, purge %v", fake.resynced, fake.refreshed, fake.bulk, fake.purged)
		}
		fake.commitErr = errors.New("kernel said no")
	})
	if _, err := Do(ctx, path, Request{Verb: VerbCommit}); !errors.As(err, &re) || !strings.Contains(re.Msg, "kernel said no") {
		t.Errorf("commit: %v", err)
	}
	if _, err := Do(ctx, path, Request{Verb: "reboot"}); err == nil {
		t.Error("an unknown verb was sent")
	}
	if _, err := Do(ctx, path, Request{Verb: VerbStop}); err != nil {
		t.Fatal(err)
	}
	<-stopped
	if err := shutdown(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file after Serve: %v", err)
	}
	if _, err := Do(context.Background(), path, Request{Verb: VerbStatus}); err == nil {
		t.Error("request to a stopped server succeeded")
	}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		line string
		want Request
		ok   bool
	}{
		{"status", Request{Verb: "status"}, true},
		{"stop", Request{Verb: "stop"}, true},
		{"dump internal", Request{Verb: "dump", Arg: "internal"}, true},
		{"dump external", Request{Verb: "dump", Arg: "external"}, true},
		{"dump", Request{}, false},
		{"dump both", Request{}, false},
		{"commit now", Request{}, false},
		{"flush", Request{Verb: "flush"}, true},
		{"flush kernel", Request{Verb: "flush", Arg: "kernel"}, true},
		{"flush everything", Request{}, false},
		{"refresh", Request{Verb: "refresh"}, true},
		{"bulk", Request{Verb: "bulk"}, true},
		{"purge", Request{Verb: "purge"}, true},
		{"", Request{}, false},
		{"STATUS", Request{}, false},
	}
	for _, tt := range tests {
		got, err := ParseRequest(tt.line)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRequest(%q) = %+v, %v", tt.line, got, err)
		}
		if tt.ok && got.String() != tt.line {
			t.Errorf("String() = %q, want %q", got.String(), tt.line)
		}
	}
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"OK\n.\n", nil, ""},
		{"OK\na\nb\n.\n", []string{"a", "b"}, ""},
		{"OK\n..dot\n.\n", []string{".dot"}, ""},
		{"OK\na\n.ERR gone\n", []string{"a"}, "sync node: gone"},
		{"ERR no such thing\n", nil, "sync node: no such thing"},
		{"OK\na\n", []string{"a"}, "read reply body"},
		{"OK\n.what\n", nil, "malformed end line"},
		{"OK 2\n", nil, "malformed status line"},
		{"HELLO\n", nil, "malformed status line"},
		{"", nil, "read reply"},
	}
	for _, tt := range tests {
		var got []string
		err := readReply(bufio.NewReader(strings.NewReader(tt.in)), func(l string) error {
			got = append(got, l)
			return nil
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("readReply(%q) lines %q, want %q", tt.in, got, tt.want)
		}
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("readReply(%q) error %v, want %q", tt.in, err, tt.err)
			}
		} else if err != nil {
			t.Errorf("readReply(%q): %v", tt.in, err)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"status", "dump internal", "dump x", "", " ", "stop stop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseRequest(line)
		if err != nil {
			return
		}
		if r2, err := ParseRequest(r.String()); err != nil || r2 != r {
			t.Errorf("round trip of %q: %+v, %v", line, r2, err)
		}
	})
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"OK\n.\n", "OK\na\nb\n.\n", "ERR x\n", "OK\n..a\n.ERR y\n", "OK 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var body []string
		err := readReply(bufio.NewReader(strings.NewReader(string(b))), func(l string) error {
			body = append(body, l)
			return nil
		})
		if err == nil && !strings.HasPrefix(string(b), "OK\n") {
			t.Errorf("accepted %q as %q", b, body)
		}
	})
}

func TestStatusLines(t *testing.T) {
	var quiet node.Stats
	text := strings.Join(StatusLines(&quiet), "\n")
	for _, absent := range []string{"authentication", "written to kernel", "purges", "failed kernel dumps"} {
		if strings.Contains(text, absent) {
			t.Errorf("status of an idle node shows %q:\n%s", absent, text)
		}
	}
	busy := node.Stats{Injected: 5, InjectErrors: 1, LastInjectError: "create x: EEXIST", Purges: 2, DumpErrors: 1,
		Links: []link.LinkStatus{
			{Name: "eth1", Transport: config.TransportUDP, Line: 4, Up: true, Active: true, Stats: link.Stats{SentDatagrams: 9}},
			{Name: "eth2", Transport: config.TransportUDP, Line: 9}}}
	busy.ExternalExpect.Active = 3
	busy.Auth.Accepted, busy.Auth.BadMAC, busy.Auth.Replayed = 10, 3, 4
	text = strings.Join(StatusLines(&busy), "\n")
	for _, want := range []string{
		"written to kernel:              5   refused:            1",
		"last refusal: create x: EEXIST",
		"purges:                         2   failed:            0",
		"failed kernel dumps:            1",
		"datagrams accepted:            10   dropped:            7",
		"forged or corrupt:            3   replayed:            4",
		"ACTIVE eth1 (UDP, line 4) up: sent 9 datagrams, received 0, errors 0/0",
		"BACKUP eth2 (UDP, line 9) down: sent 0 datagrams",
		"cache external expect:\n  active entries:                 3",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
}
