package control

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"ctq/sync/node"
)

// askConntrackd sends a request code as conntrackd's client does and
// returns the reply.
func askConntrackd(t *testing.T, path string, code uint32) string {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(binary.NativeEndian.AppendUint32(nil, code)); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestTablesRequests: commit, refresh and flush kernel pass on the tables
// asked for, in ctq's protocol and from conntrackd's client (-c, -c ct,
// -c expect, and so on for -R and -F).
func TestTablesRequests(t *testing.T) {
	fake := &fakeNode{}
	path, ctx, _ := serveFake(t, fake, nil)
	for _, tc := range []struct {
		req  Request
		code uint32
		want string
	}{
		{Request{VerbCommit, ""}, CodeAllCommit, "commit all"},
		{Request{VerbCommit, "conntrack"}, CodeCommit, "commit conntrack"},
		{Request{VerbCommit, "expect"}, CodeExpCommit, "commit expect"},
		{Request{VerbRefresh, ""}, CodeAllResyncMaster, "refresh all"},
		{Request{VerbRefresh, "conntrack"}, CodeResyncMaster, "refresh conntrack"},
		{Request{VerbRefresh, "expect"}, CodeExpResyncMaster, "refresh expect"},
		{Request{VerbFlush, "kernel"}, CodeAllFlushMaster, "flush all"},
		{Request{VerbFlush, "kernel conntrack"}, CodeFlushMaster, "flush conntrack"},
		{Request{VerbFlush, "kernel expect"}, CodeExpFlushMaster, "flush expect"},
	} {
		fake.locked(func() { fake.tables = nil })
		Do(ctx, path, tc.req)
		askConntrackd(t, path, tc.code)
		fake.locked(func() {
			if want := []string{tc.want, tc.want}; !slices.Equal(fake.tables, want) {
				t.Errorf("%s %q and conntrackd code %d: node asked %q, want %q", tc.req.Verb, tc.req.Arg, tc.code, fake.tables, want)
			}
		})
	}
	if body, err := Do(ctx, path, Request{VerbFlush, "kernel expect"}); err != nil || len(body) != 1 || body[0] != "3 entries deleted from the kernel expect table" {
		t.Errorf("flush kernel expect: %q, %v", body, err)
	}
	if _, err := ParseRequest("commit kernel"); err == nil {
		t.Error("commit kernel parsed")
	}
}

// TestConntrackdFlushCodes: each of conntrackd's cache flush codes
// (FLUSH_CACHE of older clients too) empties the caches it names.
func TestConntrackdFlushCodes(t *testing.T) {
	fake := &fakeNode{}
	path, _, _ := serveFake(t, fake, nil)
	for _, tc := range []struct {
		code uint32
		want [2]bool
	}{
		{CodeFlushIntCache, [2]bool{true, false}},
		{CodeFlushExtCache, [2]bool{false, true}},
		{CodeAllFlushCache, [2]bool{true, true}},
		{CodeFlushCache, [2]bool{true, true}},
	} {
		fake.locked(func() { fake.flushed = [2]bool{} })
		askConntrackd(t, path, tc.code)
		fake.locked(func() {
			if fake.flushed != tc.want {
				t.Errorf("code %d flushed (internal, external) %v, want %v", tc.code, fake.flushed, tc.want)
			}
		})
	}
}

// TestCommitFailed: a commit the kernel refused entries of fails its
// request: ctq's client gets the summary and then the error; conntrackd's
// client an ERROR line. A commit that wrote everything is ctq's summary,
// and nothing for conntrackd's client (conntrackd's daemon sends nothing).
func TestCommitFailed(t *testing.T) {
	fake := &fakeNode{}
	path, ctx, _ := serveFake(t, fake, nil)

	fake.locked(func() {
		fake.commit = node.CommitResult{Entries: 1000, Failed: 1000, Errors: []error{errors.New("create: file exists")}}
	})
	var lines []string
	err := Stream(ctx, path, Request{Verb: VerbCommit}, func(l string) error {
		lines = append(lines, l)
		return nil
	})
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "commit failed: the kernel refused 1000 of 1000 entries (first error: create: file exists)" {
		t.Errorf("failed commit: %v", err)
	}
	if len(lines) == 0 || lines[0] != "1000 entries committed (0 created, 0 replaced, 1000 failed)" {
		t.Errorf("failed commit's summary: %q", lines)
	}
	for _, code := range []uint32{CodeAllCommit, CodeCommit} {
		if got := askConntrackd(t, path, code); got != "ERROR: commit failed: the kernel refused 1000 of 1000 entries (first error: create: file exists)\n" {
			t.Errorf("conntrackd code %d, failed commit: %q", code, got)
		}
	}
	fake.locked(func() { fake.commit = node.CommitResult{Entries: 2, ExpectEntries: 1, Created: 2, ExpectFailed: 1} })
	if _, err := Do(ctx, path, Request{Verb: VerbCommit}); err == nil || !strings.Contains(err.Error(), "refused 1 of 3 entries") {
		t.Errorf("commit of a refused expectation: %v", err)
	}

	fake.locked(func() { fake.commit = node.CommitResult{Entries: 221, Created: 221} })
	if body, err := Do(ctx, path, Request{Verb: VerbCommit}); err != nil || !slices.Equal(body, []string{"221 entries committed (221 created, 0 replaced, 0 failed)"}) {
		t.Errorf("commit: %q, %v", body, err)
	}
	if got := askConntrackd(t, path, CodeAllCommit); got != "" {
		t.Errorf("conntrackd -c: %q, want nothing, as conntrackd answers", got)
	}
}

// TestConntrackdQuiet: conntrackd's daemon answers -c, -f, -F, -R, -B,
// -n, -t and -k with nothing (it logs what it did); so does a ctq node.
func TestConntrackdQuiet(t *testing.T) {
	fake := &fakeNode{}
	stopped := make(chan struct{})
	path, _, _ := serveFake(t, fake, func() { close(stopped) })
	for _, code := range []uint32{
		CodeAllCommit, CodeCommit, CodeExpCommit,
		CodeAllFlushCache, CodeFlushIntCache, CodeFlushExtCache, CodeFlushCache,
		CodeAllFlushMaster, CodeFlushMaster, CodeExpFlushMaster,
		CodeAllResyncMaster, CodeResyncMaster, CodeExpResyncMaster,
		CodeSendBulk, CodeRequestDump, CodeResetTimers, CodeKill,
	} {
		if got := askConntrackd(t, path, code); got != "" {
			t.Errorf("conntrackd code %d answered %q, want nothing", code, got)
		}
	}
	<-stopped
}
