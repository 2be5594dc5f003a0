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

// conntrackd's request codes (the client sends one as a native-endian
// 32-bit integer, then reads text until the daemon closes the socket),
// with their C names (conntrackd's include/conntrackd.h) and options.
const (
	ctdFlushMaster     = 0  // FLUSH_MASTER: -F ct
	ctdResyncMaster    = 1  // RESYNC_MASTER: -R ct
	ctdDumpInternal    = 16 // DUMP_INTERNAL: -i
	ctdDumpExternal    = 17 // DUMP_EXTERNAL: -e
	ctdCommit          = 18 // COMMIT: -c ct
	ctdFlushCache      = 19 // FLUSH_CACHE: -f of older clients
	ctdKill            = 20 // KILL: -k
	ctdStats           = 21 // STATS: -s
	ctdSendBulk        = 22 // SEND_BULK: -B
	ctdRequestDump     = 23 // REQUEST_DUMP: -n
	ctdDumpIntXML      = 24 // DUMP_INT_XML: -i -x
	ctdDumpExtXML      = 25 // DUMP_EXT_XML: -e -x
	ctdResetTimers     = 26 // RESET_TIMERS: -t
	ctdStatsNetwork    = 28 // STATS_NETWORK: -s network
	ctdStatsCache      = 29 // STATS_CACHE: -s cache
	ctdStatsRuntime    = 30 // STATS_RUNTIME: -s runtime
	ctdStatsLink       = 31 // STATS_LINK: -s link
	ctdStatsRsqueue    = 32 // STATS_RSQUEUE: -s rsqueue
	ctdFlushIntCache   = 33 // FLUSH_INT_CACHE: -f internal
	ctdFlushExtCache   = 34 // FLUSH_EXT_CACHE: -f external
	ctdStatsProcess    = 35 // STATS_PROCESS: -s process
	ctdStatsQueue      = 36 // STATS_QUEUE: -s queue
	ctdExpStats        = 37 // EXP_STATS: -s expect
	ctdExpFlushMaster  = 38 // EXP_FLUSH_MASTER: -F expect
	ctdExpResyncMaster = 39 // EXP_RESYNC_MASTER: -R expect
	ctdExpDumpInternal = 40 // EXP_DUMP_INTERNAL: -i expect
	ctdExpDumpExternal = 41 // EXP_DUMP_EXTERNAL: -e expect
	ctdExpCommit       = 42 // EXP_COMMIT: -c expect
	ctdAllFlushMaster  = 43 // ALL_FLUSH_MASTER: -F
	ctdAllResyncMaster = 44 // ALL_RESYNC_MASTER: -R
	ctdAllFlushCache   = 45 // ALL_FLUSH_CACHE: -f
	ctdAllCommit       = 46 // ALL_COMMIT: -c
	ctdExpDumpIntXML   = 47 // EXP_DUMP_INT_XML: -i expect -x
	ctdExpDumpExtXML   = 48 // EXP_DUMP_EXT_XML: -e expect -x
)

// ctdRequests maps the codes the server answers as one of its own
// requests.
var ctdRequests = map[uint32]Request{
	ctdFlushMaster: {VerbFlush, "kernel conntrack"}, ctdExpFlushMaster: {VerbFlush, "kernel expect"},
	ctdAllFlushMaster: {VerbFlush, "kernel"},
	ctdResyncMaster:   {VerbRefresh, "conntrack"}, ctdExpResyncMaster: {VerbRefresh, "expect"},
	ctdAllResyncMaster: {VerbRefresh, ""},
	ctdCommit:          {VerbCommit, "conntrack"}, ctdExpCommit: {VerbCommit, "expect"}, ctdAllCommit: {VerbCommit, ""},
	ctdKill: {VerbStop, ""}, ctdSendBulk: {VerbBulk, ""}, ctdRequestDump: {VerbResync, ""},
	ctdResetTimers:   {VerbPurge, ""},
	ctdFlushIntCache: {VerbFlush, "internal"}, ctdFlushExtCache: {VerbFlush, "external"},
	ctdAllFlushCache: {VerbFlush, ""}, ctdFlushCache: {VerbFlush, ""},
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
	case ctdDumpInternal, ctdDumpExternal:
		return s.ctdDump(ctx, code == ctdDumpExternal, false, out)
	case ctdDumpIntXML, ctdDumpExtXML:
		return s.ctdDump(ctx, code == ctdDumpExtXML, true, out)
	case ctdExpDumpInternal, ctdExpDumpExternal:
		return s.ctdDumpExpect(ctx, code == ctdExpDumpExternal, false, out)
	case ctdExpDumpIntXML, ctdExpDumpExtXML:
		return s.ctdDumpExpect(ctx, code == ctdExpDumpExtXML, true, out)
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
