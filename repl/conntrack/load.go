package conntrack

import (
	"context"
	"io"
	"os"

	"ctq/lang/ctargs"
)

// load runs -R: ctargs.ParseLoad parses every line of the file first (a
// line that does not parse stops everything, exit code 2), the warnings
// of all lines are printed, then the lines run in order; the first that
// fails stops the load with exit code 1, the lines before it staying
// done. No summary lines are printed.
func (r *runner) load(ctx context.Context, cmd *ctargs.Command) int {
	var in io.Reader
	if cmd.LoadFile == "-" {
		in = r.cfg.Stdin
		if in == nil {
			in = eofReader{}
		}
	} else {
		f, err := os.Open(cmd.LoadFile)
		if err != nil {
			return r.parseError(ctargs.LoadOpenError(cmd.LoadFile))
		}
		defer f.Close()
		in = f
	}
	cmds, err := ctargs.ParseLoad(in, r.env())
	if err != nil {
		return r.parseError(err)
	}
	for _, c := range cmds {
		r.warn(c.Warnings)
	}
	r.quiet = true
	defer func() { r.quiet = false }()
	for _, c := range cmds {
		if c.ExecError != nil {
			return fail(r.stderr, c.ExecError.Code, c.ExecError.Msg)
		}
		if rc := r.run(ctx, c); rc != exitOK {
			return rc
		}
	}
	return exitOK
}

// eofReader is an empty standard input.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
