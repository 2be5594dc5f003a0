package conntrack

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/lang/ctargs"
)

// output is the engine.Output of one command: flows, expectations or
// events, each when the command has a writer for it.
type output struct {
	flows   engine.Writer
	expects engine.ExpectWriter
	events  engine.EventWriter
}

func (o *output) Flows() (engine.Writer, error) {
	if o.flows == nil {
		return nil, engine.ErrNoOutput
	}
	return o.flows, nil
}

func (o *output) Expects() (engine.ExpectWriter, error) {
	if o.expects == nil {
		return nil, engine.ErrNoOutput
	}
	return o.expects, nil
}

func (o *output) Events() (engine.EventWriter, error) {
	if o.events == nil {
		return nil, engine.ErrNoOutput
	}
	return o.events, nil
}

func (o *output) Groups([]engine.Group) error           { return engine.ErrNoOutput }
func (o *output) Interval(*engine.IntervalReport) error { return engine.ErrNoOutput }

// flush flushes the writers handed out; the first error is returned.
func (o *output) flush() error {
	var err error
	if o.flows != nil {
		err = o.flows.Flush()
	}
	if o.expects != nil {
		if ferr := o.expects.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// entries names what a command's summary counts.
func entries(t engine.Table) string {
	if t == engine.TableExpect {
		return "expectations"
	}
	return "flow entries"
}

// exec runs cmd's plan with writers for its entries on standard output.
func (r *runner) exec(ctx context.Context, src engine.Source, cmd *ctargs.Command) (engine.Result, error) {
	out := &output{}
	if cmd.Table == engine.TableExpect {
		if cmd.Op == ctargs.OpList || cmd.Op == ctargs.OpGet {
			w, err := format.NewExpect(specName(cmd.Output.Spec), r.out, *r.formatOptions(cmd))
			if err != nil {
				return engine.Result{}, err
			}
			out.expects = w
		}
	} else {
		out.flows = flowWriter(cmd.Op, cmd.Output, r.out, r.formatOptions(cmd))
	}
	res, err := engine.Exec(ctx, src, &cmd.Plan, out, nil)
	if ferr := out.flush(); err == nil {
		err = ferr
	}
	return res, err
}

// list runs -L.
func (r *runner) list(ctx context.Context, src engine.Source, cmd *ctargs.Command) int {
	res, err := r.exec(ctx, src, cmd)
	if err != nil {
		return opFailed(r.stderr, cmd.Op, cmd.Table, err)
	}
	if cmd.Output.Spec.Kind == format.KindXML && res.Count > 0 {
		// conntrack flushes standard output after the closing tag: the
		// whole document comes before the summary.
		if err := r.out.Flush(); err != nil {
			return fail(r.stderr, exitProblem, err.Error())
		}
	}
	r.summary("%d %s have been shown.", res.Count, entries(cmd.Table))
	return exitOK
}

// get runs -G: an entry found but filtered out is "0 flow entries", exit
// code 1; a missing one the kernel's ENOENT.
func (r *runner) get(ctx context.Context, src engine.Source, cmd *ctargs.Command) int {
	res, err := r.exec(ctx, src, cmd)
	if err != nil {
		return opFailed(r.stderr, cmd.Op, cmd.Table, err)
	}
	if cmd.Table == engine.TableExpect {
		// The kernel's lookup fails with ENOENT; a plan that lists the
		// expectation (ctargs') finds none.
		if res.Count == 0 {
			return opFailed(r.stderr, cmd.Op, cmd.Table, engine.ErrNotFound)
		}
		return exitOK
	}
	r.summary("%d flow entries have been shown.", res.Count)
	if res.Count == 0 {
		return exitProblem
	}
	return exitOK
}

// change runs -D and -U: each entry changed is printed, then the count.
func (r *runner) change(ctx context.Context, src engine.Source, cmd *ctargs.Command) int {
	res, err := r.exec(ctx, src, cmd)
	if cmd.Table == engine.TableExpect {
		// conntrack deletes one expectation by its tuple and then reports
		// "0 expectations have been shown", exit code 1, even when it did.
		switch {
		case err != nil:
			return opFailed(r.stderr, cmd.Op, cmd.Table, firstError(err))
		case res.Count == 0:
			return opFailed(r.stderr, cmd.Op, cmd.Table, engine.ErrNotFound)
		}
		r.summary("0 expectations have been shown.")
		return exitProblem
	}
	count := res.Count
	var me *engine.MutationError
	switch {
	case err == nil:
	case cmd.Op == ctargs.OpUpdate && errors.As(err, &me) && me.Stats.Unknown == 0:
		// conntrack reports each refused update without its prefix,
		// counts it and goes on.
		for _, e := range me.Stats.Errors {
			fmt.Fprintf(r.stderr, "Operation failed: %s\n", errText(cmd.Op, cmd.Table, e))
		}
		count += me.Stats.Failed
	default:
		return opFailed(r.stderr, cmd.Op, cmd.Table, firstError(err))
	}
	verb := "deleted"
	if cmd.Op == ctargs.OpUpdate {
		verb = "updated"
	}
	r.summary("%d flow entries have been %s.", count, verb)
	if count == 0 && !r.quiet {
		return exitProblem
	}
	return exitOK
}

// create runs -I and -A.
func (r *runner) create(ctx context.Context, src engine.Source, cmd *ctargs.Command) int {
	res, err := engine.Exec(ctx, src, &cmd.Plan, nil, nil)
	if err != nil {
		return opFailed(r.stderr, cmd.Op, cmd.Table, firstError(err))
	}
	switch {
	case cmd.Table == engine.TableExpect:
	case cmd.Op == ctargs.OpAdd:
		r.summary("%d flow entries have been added.", res.Batch.Done)
	default:
		r.summary("%d flow entries have been created.", res.Count)
	}
	return exitOK
}

// flushed prints -F's line, which conntrack prints whatever happens.
func (r *runner) flushed(cmd *ctargs.Command) {
	if cmd.Table == engine.TableExpect {
		fmt.Fprintln(r.stderr, prefix+"expectation table has been emptied.")
		return
	}
	fmt.Fprintln(r.stderr, prefix+"connection tracking table has been emptied.")
}

// flush runs -F.
func (r *runner) flush(ctx context.Context, src engine.Source, cmd *ctargs.Command) int {
	_, err := engine.Exec(ctx, src, &cmd.Plan, nil, nil)
	r.flushed(cmd)
	if err != nil {
		return opFailed(r.stderr, cmd.Op, cmd.Table, err)
	}
	return exitOK
}

// count runs -C: the number alone on standard output.
func (r *runner) count(ctx context.Context, src engine.Source, cmd *ctargs.Command) int {
	res, err := engine.Exec(ctx, src, &cmd.Plan, nil, nil)
	if err != nil {
		if cmd.Table == engine.TableConntrack {
			r.countFallback()
		}
		return opFailed(r.stderr, cmd.Op, cmd.Table, err)
	}
	r.out.WriteString(strconv.Itoa(res.Count) + "\n")
	return exitOK
}

// stats runs -S: one line of counters a CPU.
func (r *runner) stats(ctx context.Context, src engine.Source, cmd *ctargs.Command) int {
	ss, ok := src.(engine.StatsSource)
	if !ok {
		return opFailed(r.stderr, cmd.Op, cmd.Table, errors.New("this source keeps no statistics"))
	}
	cpus, err := ss.Stats(ctx, cmd.Table)
	if err != nil {
		if cmd.Table == engine.TableConntrack {
			r.statsFallback()
		}
		return opFailed(r.stderr, cmd.Op, cmd.Table, err)
	}
	var b []byte
	for i := range cpus {
		b = format.AppendCPUStats(b[:0], &cpus[i])
		b = append(b, '\n')
		r.out.Write(b)
	}
	return exitOK
}

// summary writes a summary line, unless -R runs the command.
func (r *runner) summary(format string, args ...any) {
	if !r.quiet {
		summary(r.stderr, format, args...)
	}
}
