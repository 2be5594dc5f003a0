package conntrack

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"

	"ctq/engine"
	"ctq/engine/savefmt"
	"ctq/lang/ctargs"
)

// loadAllowed reports whether -R may run cmd: -I, -A, -U, -D and -F on
// the conntrack table. Otherwise it returns the name conntrack gives the
// command in its refusal (1.4.7's names: -I of expectations is "-C
// expect").
func loadAllowed(cmd *ctargs.Command) (string, bool) {
	names := map[ctargs.Op]string{
		ctargs.OpList: "-L", ctargs.OpGet: "-G", ctargs.OpEvent: "-E", ctargs.OpVersion: "-V",
		ctargs.OpHelp: "-h", ctargs.OpCount: "-C", ctargs.OpStats: "-S", ctargs.OpLoad: "-R",
		ctargs.OpNone: "-h",
	}
	expectNames := map[ctargs.Op]string{
		ctargs.OpList: "-L expect", ctargs.OpCreate: "-C expect", ctargs.OpDelete: "-D expect",
		ctargs.OpGet: "-G expect", ctargs.OpFlush: "-F expect", ctargs.OpEvent: "-E expect",
		ctargs.OpStats: "-S expect", ctargs.OpCount: "-C expect",
	}
	if cmd.Table == engine.TableExpect {
		if n, ok := expectNames[cmd.Op]; ok {
			return n, false
		}
	}
	if n, ok := names[cmd.Op]; ok {
		return n, false
	}
	return "", true
}

// load runs -R: it parses every line of the file first (a line that does
// not parse stops everything, exit code 2), then runs them in order; the
// first that fails stops the load with exit code 1, the lines before it
// staying done. No summary lines are printed.
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
			return fail(r.stderr, exitParam, "Failed to open file "+cmd.LoadFile+" for reading")
		}
		defer f.Close()
		in = f
	}
	var cmds []*ctargs.Command
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		toks, err := savefmt.Tokenize(line)
		if err != nil {
			return fail(r.stderr, exitParam, err.Error())
		}
		if len(toks) == 0 {
			continue
		}
		args := make([]string, len(toks))
		for i, t := range toks {
			args[i] = t.Text
		}
		c, rc := r.parse(args)
		if c == nil {
			return rc
		}
		if name, ok := loadAllowed(c); !ok {
			return fail(r.stderr, exitParam, "Cannot use command `"+name+"' with --load-file")
		}
		cmds = append(cmds, c)
	}
	if err := sc.Err(); err != nil {
		return fail(r.stderr, exitProblem, "read "+cmd.LoadFile+": "+err.Error())
	}
	r.quiet = true
	defer func() { r.quiet = false }()
	for _, c := range cmds {
		if rc := r.run(ctx, c); rc != exitOK {
			return rc
		}
	}
	return exitOK
}

// eofReader is an empty standard input.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
