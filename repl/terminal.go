package repl

import (
	"io"
	"os"

	"github.com/chzyer/readline"
)

// isTerminal reports whether w is a file open on a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && readline.IsTerminal(int(f.Fd()))
}

// colourOn reports whether text written to w may carry colour codes: w is
// a terminal and NO_COLOR (https://no-color.org) is unset or empty.
func colourOn(w io.Writer, getenv func(string) string) bool {
	return getenv("NO_COLOR") == "" && isTerminal(w)
}

// CanRunShell reports whether Interactive can run: stdin is a terminal,
// and standard output or stderr is one too (for the prompt and line
// editing).
func CanRunShell(stdin io.Reader, stdout, stderr io.Writer) bool {
	return isTerminal(stdin) && (isTerminal(stdout) || isTerminal(stderr))
}
