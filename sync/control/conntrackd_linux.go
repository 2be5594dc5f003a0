package control

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// ctdRequests maps the codes the server answers as one of its own
// requests.
var ctdRequests = map[uint32]Request{
	CodeFlushMaster: {VerbFlush, "kernel conntrack"}, CodeExpFlushMaster: {VerbFlush, "kernel expect"},
	CodeAllFlushMaster: {VerbFlush, "kernel"},
	CodeResyncMaster:   {VerbRefresh, "conntrack"}, CodeExpResyncMaster: {VerbRefresh, "expect"},
	CodeAllResyncMaster: {VerbRefresh, ""},
	CodeCommit:          {VerbCommit, "conntrack"}, CodeExpCommit: {VerbCommit, "expect"}, CodeAllCommit: {VerbCommit, ""},
	CodeKill: {VerbStop, ""}, CodeSendBulk: {VerbBulk, ""}, CodeRequestDump: {VerbResync, ""},
	CodeResetTimers:   {VerbPurge, ""},
	CodeFlushIntCache: {VerbFlush, "internal"}, CodeFlushExtCache: {VerbFlush, "external"},
	CodeAllFlushCache: {VerbFlush, ""}, CodeFlushCache: {VerbFlush, ""},
}

// plainLines writes reply lines as they are, for conntrackd's client.
type plainLines struct {
	c net.Conn
	w *bufio.Writer
}

func (p *plainLines) line(l string) error {
	p.c.SetWriteDeadline(time.Now().Add(replyTimeout))
	p.w.WriteString(l)
	return p.w.WriteByte('\n')
}

// discardLines drops reply lines.
type discardLines struct{}

func (discardLines) line(string) error { return nil }

// handleConntrackd answers a request of conntrackd's own client, so that
// scripts written for conntrackd (conntrackd -C CONF -c, -f, -R, -B, -n,
// -t, -i, -e, -s, -k) drive a ctq node unchanged. The -s pages and the
// -i/-e dumps, of flows and expectations, are conntrackd's (ctdstats.go,
// ctddump.go). The other requests are answered as conntrackd answers
// them: with nothing, the socket closed once done. A failure (a commit
// the kernel refused entries of, say) is written as a line starting with
// "ERROR:", which conntrackd's client prints; conntrackd's own daemon
// only logs it. Nothing the daemon sends changes the client's exit
// status: conntrackd's client exits 0 once it has sent its request (it
// fails only when it cannot connect), so a script that must know whether
// a commit worked uses ctq's sync commit, which exits 1.
func (s *Server) handleConntrackd(ctx context.Context, c net.Conn, r io.Reader) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return
	}
	code := binary.NativeEndian.Uint32(b[:])
	out := &plainLines{c: c, w: bufio.NewWriter(c)}
	defer out.w.Flush()
	if err := s.conntrackdRequest(ctx, code, out); err != nil && !errors.Is(err, net.ErrClosed) {
		out.line("ERROR: " + oneLine(err))
	}
}

// conntrackdRequest carries out one conntrackd request code.
func (s *Server) conntrackdRequest(ctx context.Context, code uint32, out *plainLines) error {
	if page, ok := ctdPages[code]; ok {
		st, err := s.node.Stats(ctx)
		if err != nil {
			return err
		}
		out.c.SetWriteDeadline(time.Now().Add(replyTimeout))
		_, err = out.w.WriteString(page(&st, time.Now()))
		return err
	}
	switch code {
	case CodeDumpInternal, CodeDumpExternal:
		return s.ctdDump(ctx, code == CodeDumpExternal, false, out)
	case CodeDumpIntXML, CodeDumpExtXML:
		return s.ctdDump(ctx, code == CodeDumpExtXML, true, out)
	case CodeExpDumpInternal, CodeExpDumpExternal:
		return s.ctdDumpExpect(ctx, code == CodeExpDumpExternal, false, out)
	case CodeExpDumpIntXML, CodeExpDumpExtXML:
		return s.ctdDumpExpect(ctx, code == CodeExpDumpExtXML, true, out)
	}
	req, ok := ctdRequests[code]
	if !ok {
		return fmt.Errorf("conntrackd request %d is not supported by ctq", code)
	}
	// conntrackd's daemon answers these requests with nothing (it logs
	// what it did), and its client prints nothing: the lines of ctq's
	// answer (a commit's summary, a kernel flush's count) are not sent.
	if err := s.answer(ctx, req, discardLines{}); err != nil {
		return err
	}
	if req.Verb == VerbStop && s.stop != nil {
		out.w.Flush()
		s.stop()
	}
	return nil
}
