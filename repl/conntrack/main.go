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

// Config is what Main needs from the program around it.
type Config struct {
	// Stdin is read by -R - ; Stdout takes the entries (Main buffers it
	// and flushes it at the end, as conntrack's stdio does when it is not
	// a terminal), Stderr the summary lines, warnings and errors.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// StdoutTerminal says that Stdout is a terminal: conntrack's stdio
	// then writes each line at once, where it otherwise writes whole
	// 4096-byte blocks.
	StdoutTerminal bool
	// NetNS names the network namespace whose tables are used ("": the
	// process's own).
	NetNS string
	// OpenLive opens the live tables of a network namespace (cmd/ctq's
	// opener over ctnetlink); nil where there are none (not Linux).
	OpenLive func(netns string) (engine.Source, error)
	// Env is what the parser needs from the system (protocol names,
	// connlabel.conf); nil means ctargs.SystemEnv().
	Env *ctargs.Env
	// ProcDir is where procfs is mounted, for the fallbacks of -C and -S
	// without privileges; "" means /proc.
	ProcDir string
	// Location is the time zone of -o ktimestamp and event times; nil
	// means time.Local.
	Location *time.Location
}

// Main runs the conntrack command line args (without the program name),
// parsed by ctargs.Parse, and returns conntrack's exit code. -E runs until
// ctx is cancelled (the caller cancels it on SIGINT and SIGTERM).
func Main(ctx context.Context, args []string, cfg Config) int {
	r := newRunner(&cfg)
	defer r.close()
	cmd, err := ctargs.Parse(args, r.env())
	if err != nil {
		return r.parseError(err)
	}
	r.warn(cmd.Warnings)
	return r.finish(r.run(ctx, cmd))
}

// Run runs a parsed command as Main does after parsing it (its warnings
// are not printed).
func Run(ctx context.Context, cmd *ctargs.Command, cfg Config) int {
	r := newRunner(&cfg)
	defer r.close()
	return r.finish(r.run(ctx, cmd))
}

// runner runs the commands of one invocation (several for -R), on one
// source.
type runner struct {
	cfg    *Config
	out    *blockWriter // Stdout, flushed at the end
	stderr io.Writer
	src    engine.Source
	sysEnv *ctargs.Env // ctargs.SystemEnv(), read once
	// quiet is set while -R runs its lines: no summary lines, and a delete
	// or update that changes nothing is no failure.
	quiet bool
}

func newRunner(cfg *Config) *runner {
	stdout, stderr := cfg.Stdout, cfg.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	out := newBlockWriter(stdout, cfg.StdoutTerminal)
	return &runner{cfg: cfg, out: out, stderr: stderrWriter{out: out, w: stderr}}
}

// finish flushes standard output and returns rc (1 when the output could
// not be written and rc was 0).
func (r *runner) finish(rc int) int {
	if err := r.out.Flush(); err != nil && rc == exitOK {
		fmt.Fprintf(r.stderr, "%s%v\n", prefix, err)
		return exitProblem
	}
	return rc
}

func (r *runner) close() {
	if r.src != nil {
		r.src.Close()
	}
}

// env is the parser's environment.
func (r *runner) env() *ctargs.Env {
	if r.cfg.Env != nil {
		return r.cfg.Env
	}
	if r.sysEnv == nil {
		r.sysEnv = ctargs.SystemEnv()
	}
	return r.sysEnv
}

// warn prints warning lines on standard error.
func (r *runner) warn(lines []string) {
	for _, w := range lines {
		io.WriteString(r.stderr, w+"\n")
	}
}

// parseError prints a refused command line (with the warnings printed
// before it) and returns its exit code.
func (r *runner) parseError(err error) int {
	var pe *ctargs.Error
	if errors.As(err, &pe) {
		r.warn(pe.Warnings)
		return fail(r.stderr, pe.Code, pe.Msg)
	}
	return fail(r.stderr, exitParam, err.Error())
}

// source opens the live tables once.
func (r *runner) source() (engine.Source, error) {
	if r.src != nil {
		return r.src, nil
	}
	if r.cfg.OpenLive == nil {
		return nil, fmt.Errorf("the conntrack tables need Linux: %w", engine.ErrUnsupported)
	}
	src, err := r.cfg.OpenLive(r.cfg.NetNS)
	if err != nil {
		return nil, err
	}
	r.src = src
	return src, nil
}

// run runs one command and returns its exit code.
func (r *runner) run(ctx context.Context, cmd *ctargs.Command) int {
	switch cmd.Op {
	case ctargs.OpNone:
		io.WriteString(r.out, cmd.HelpText())
		return exitOK
	case ctargs.OpHelp:
		io.WriteString(r.out, cmd.HelpText())
		r.differences()
		return exitOK
	case ctargs.OpVersion:
		io.WriteString(r.out, ctargs.Version+"\n")
		return exitOK
	case ctargs.OpLoad:
		return r.load(ctx, cmd)
	}
	src, err := r.source()
	if err != nil {
		if cmd.Op == ctargs.OpFlush {
			r.flushed(cmd)
		}
		return opFailed(r.stderr, cmd.Op, cmd.Table, err)
	}
	switch cmd.Op {
	case ctargs.OpList:
		return r.list(ctx, src, cmd)
	case ctargs.OpGet:
		return r.get(ctx, src, cmd)
	case ctargs.OpDelete, ctargs.OpUpdate:
		return r.change(ctx, src, cmd)
	case ctargs.OpCreate, ctargs.OpAdd:
		return r.create(ctx, src, cmd)
	case ctargs.OpFlush:
		return r.flush(ctx, src, cmd)
	case ctargs.OpCount:
		return r.count(ctx, src, cmd)
	case ctargs.OpStats:
		return r.stats(ctx, src, cmd)
	case ctargs.OpEvent:
		return r.events(ctx, src, cmd)
	}
	return fail(r.stderr, exitParam, fmt.Sprintf("unknown command %d", cmd.Op))
}

// differences prints, after -h's usage, where ctq's conntrack differs
// from conntrack 1.4.7 on purpose: the parser's list, then the runner's.
func (r *runner) differences() {
	io.WriteString(r.out, "\nWhere ctq differs from conntrack 1.4.7 on purpose:\n")
	for _, d := range ctargs.Differences {
		fmt.Fprintf(r.out, "  conntrack %s\n    1.4.7: %s\n    ctq:   %s\n", d.Command, d.Conntrack, d.Ctq)
	}
	for _, d := range Differences {
		io.WriteString(r.out, "  "+d+"\n")
	}
}

// formatOptions are the options of the writers of cmd: the label names
// the parser loaded (conntrack prints no labels of deleted entries).
func (r *runner) formatOptions(cmd *ctargs.Command) *format.Options {
	opts := &format.Options{Location: r.cfg.Location}
	if cmd.Op != ctargs.OpDelete {
		opts.LabelNames = cmd.Output.LabelNames
	}
	return opts
}
