package control

import (
	"encoding/binary"
	"io"
	"net"
	"slices"
	"testing"
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
		{Request{VerbCommit, ""}, ctdAllCommit, "commit all"},
		{Request{VerbCommit, "conntrack"}, ctdCommit, "commit conntrack"},
		{Request{VerbCommit, "expect"}, ctdExpCommit, "commit expect"},
		{Request{VerbRefresh, ""}, ctdAllResyncMaster, "refresh all"},
		{Request{VerbRefresh, "conntrack"}, ctdResyncMaster, "refresh conntrack"},
		{Request{VerbRefresh, "expect"}, ctdExpResyncMaster, "refresh expect"},
		{Request{VerbFlush, "kernel"}, ctdAllFlushMaster, "flush all"},
		{Request{VerbFlush, "kernel conntrack"}, ctdFlushMaster, "flush conntrack"},
		{Request{VerbFlush, "kernel expect"}, ctdExpFlushMaster, "flush expect"},
	} {
		fake.record(func(r *fakeRecord) { r.tables = nil })
		Do(ctx, path, tc.req) // the fake's commit fails; what it was asked is the point
		askConntrackd(t, path, tc.code)
		if got, want := fake.recorded().tables, []string{tc.want, tc.want}; !slices.Equal(got, want) {
			t.Errorf("%s %q and conntrackd code %d: node asked %q, want %q", tc.req.Verb, tc.req.Arg, tc.code, got, want)
		}
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
		{ctdFlushIntCache, [2]bool{true, false}},
		{ctdFlushExtCache, [2]bool{false, true}},
		{ctdAllFlushCache, [2]bool{true, true}},
		{ctdFlushCache, [2]bool{true, true}},
	} {
		fake.record(func(r *fakeRecord) { r.flushed = [2]bool{} })
		askConntrackd(t, path, tc.code)
		if got := fake.recorded().flushed; got != tc.want {
			t.Errorf("code %d flushed (internal, external) %v, want %v", tc.code, got, tc.want)
		}
	}
}
