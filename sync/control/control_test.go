package control

import (
	"bufio"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/node"
)

// fakeNode records the requests and answers with fixed data.
type fakeNode struct {
	flushed, resynced bool
	external          []cache.Entry
}

func (f *fakeNode) Internal(context.Context) ([]cache.Entry, error) { return nil, nil }
func (f *fakeNode) External(context.Context) ([]cache.Entry, error) { return f.external, nil }
func (f *fakeNode) RequestResync(context.Context) error             { f.resynced = true; return nil }
func (f *fakeNode) FlushCaches(_ context.Context, i, e bool) error {
	f.flushed = i && e
	return nil
}
func (f *fakeNode) Stats(context.Context) (node.Stats, error) {
	s := node.Stats{}
	s.External.Active = 7
	return s, nil
}
func (f *fakeNode) Commit(context.Context) (node.CommitResult, error) {
	return node.CommitResult{}, errors.New("kernel said no")
}

func TestServer(t *testing.T) {
	fl := engine.Flow{Family: "ipv4", Proto: "udp", ProtoNum: engine.IPPROTO_UDP,
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Sport: 1000, Dport: 53,
		ReplySrc: netip.MustParseAddr("192.0.2.2"), ReplyDst: netip.MustParseAddr("192.0.2.1"), ReplySport: 53, ReplyDport: 1000}
	fake := &fakeNode{external: []cache.Entry{{Flow: fl}}}
	path := filepath.Join(t.TempDir(), "c.sock")
	stopped := make(chan struct{})
	srv, err := Listen(path, fake, func() { close(stopped) })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
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
	body, err = Do(ctx, path, Request{Verb: VerbDump, Arg: "external"})
	if err != nil {
		t.Fatal(err)
	}
	if len(body) != 1 || !strings.Contains(body[0], "src=192.0.2.1 dst=192.0.2.2") {
		t.Errorf("dump: %q", body)
	}
	if body, err = Do(ctx, path, Request{Verb: VerbDump, Arg: "internal"}); err != nil || len(body) != 0 {
		t.Errorf("dump internal: %q, %v", body, err)
	}
	var re *RemoteError
	if _, err := Do(ctx, path, Request{Verb: VerbCommit}); !errors.As(err, &re) || !strings.Contains(re.Msg, "kernel said no") {
		t.Errorf("commit: %v", err)
	}
	if _, err := Do(ctx, path, Request{Verb: VerbFlush}); err != nil || !fake.flushed {
		t.Errorf("flush: %v (flushed %v)", err, fake.flushed)
	}
	if _, err := Do(ctx, path, Request{Verb: VerbResync}); err != nil || !fake.resynced {
		t.Errorf("resync: %v (resynced %v)", err, fake.resynced)
	}
	if _, err := Do(ctx, path, Request{Verb: "reboot"}); err == nil {
		t.Error("an unknown verb was sent")
	}
	if _, err := Do(ctx, path, Request{Verb: VerbStop}); err != nil {
		t.Fatal(err)
	}
	<-stopped
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	done <- nil
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
		{"OK 0\n", []string{}, ""},
		{"OK 2\na\nb\n", []string{"a", "b"}, ""},
		{"ERR no such thing\n", nil, "sync node: no such thing"},
		{"OK 3\na\n", nil, "read reply body"},
		{"OK -1\n", nil, "malformed line count"},
		{"HELLO\n", nil, "malformed status line"},
		{"", nil, "read reply"},
	}
	for _, tt := range tests {
		got, err := readReply(bufio.NewReader(strings.NewReader(tt.in)))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("readReply(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("readReply(%q) = %q, %v", tt.in, got, err)
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
	for _, s := range []string{"OK 0\n", "OK 2\na\nb\n", "ERR x\n", "OK 99999999999\n", "OK 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := readReply(bufio.NewReader(strings.NewReader(string(b))))
		if err == nil && !strings.HasPrefix(string(b), "OK ") {
			t.Errorf("accepted %q as %q", b, body)
		}
	})
}
