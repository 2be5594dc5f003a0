package conntrack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/lang/ctargs"
)

// enobufsWarning is what conntrack -E prints on standard error each time
// the kernel reports lost events.
const enobufsWarning = "WARNING: We have hit ENOBUFS! We are losing events.\n" +
	"This message means that the current netlink socket buffer size is too small.\n" +
	"Please, check --buffer-size in conntrack(8) manpage.\n"

// eventOut is the event writer of -E: events to standard output, lost
// events reported on standard error as conntrack reports them.
type eventOut struct {
	format.EventWriter
	stderr io.Writer
}

// WriteLoss prints conntrack's ENOBUFS warning (engine.LossWriter).
func (e *eventOut) WriteLoss(overflows int, _ time.Time) error {
	for range overflows {
		if _, err := io.WriteString(e.stderr, enobufsWarning); err != nil {
			return fmt.Errorf("write warning: %w", err)
		}
	}
	return nil
}

// events runs -E until ctx ends, then prints how many events it showed.
// Events go to standard output unbuffered by Main's buffer: the engine
// flushes the writer whenever no event is waiting.
func (r *runner) events(ctx context.Context, src engine.Source, cmd *ctargs.Command) int {
	if err := r.out.Flush(); err != nil {
		return fail(r.stderr, exitProblem, err.Error())
	}
	what := "flow events"
	if cmd.Table == engine.TableExpect {
		what = "expectation events"
	}
	if cmd.EventBufferSet {
		// conntrack reports the size the kernel gives a socket asked for
		// -b's (ctq's own event socket sizes itself, larger).
		// 1.4.7 passes the size as a C int and reads the answer (4
		// bytes) into the low half of its 8-byte size_t holding -b's
		// value: a negative -b prints its high half too.
		req := uint64(cmd.EventBuffer)
		if n, err := rcvbufSize(int(int32(uint32(req)))); err == nil {
			fmt.Fprintf(r.stderr, "NOTICE: Netlink socket buffer size has been set to %d bytes.\n", req&^0xffffffff|uint64(uint32(n)))
		}
	}
	if cmd.NoEvents {
		// An event mask that selects no type: conntrack subscribes to
		// nothing and waits for its signal.
		<-ctx.Done()
		summary(r.stderr, "0 %s have been shown.", what)
		return exitOK
	}
	spec := cmd.Output.Spec
	spec.Flags &= honoured(cmd.Op)
	opts := format.EventOptions{Options: *r.formatOptions(cmd), SaveUserspace: true}
	opts.ProgName = engine.ProgNames(src)
	stdout := r.cfg.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	ew, err := format.NewEvents(specName(spec), stdout, opts)
	if err != nil {
		return fail(r.stderr, exitProblem, err.Error())
	}
	res, err := engine.Exec(ctx, src, &cmd.Plan, &output{events: &eventOut{EventWriter: ew, stderr: r.stderr}}, nil)
	cerr := ew.Close()
	switch {
	case errors.Is(err, engine.ErrPermission):
		// conntrack fails to bind its event socket to the groups.
		io.WriteString(r.stderr, "mnl_socket_bind: Operation not permitted\n")
		return fail(r.stderr, exitProblem, "Can't open netlink socket")
	case err != nil && ctx.Err() == nil:
		return opFailed(r.stderr, cmd.Op, cmd.Table, err)
	}
	if cerr != nil {
		return fail(r.stderr, exitProblem, cerr.Error())
	}
	summary(r.stderr, "%d %s have been shown.", res.Count, what)
	return exitOK
}
