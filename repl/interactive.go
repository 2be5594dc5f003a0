package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/chzyer/readline"

	"ctq/lang"
)

// Interactive runs the shell on a terminal: a prompt, history in
// ~/.ctq_history, and one statement line at a time. Ctrl-C cancels the
// running statement (or the line being typed) and returns to the prompt;
// Ctrl-D at the prompt, or an exit statement, ends the shell (exit N: with
// that code). Variables set with let stay for the following lines.
//
// The prompt and line editing go to standard output when it is a
// terminal, else to stderr (which must then be one): output redirected to
// a file gets only the statements' results. Error messages are red on a
// terminal, unless NO_COLOR is set.
func Interactive(ctx context.Context, sess *Session, stdin *os.File, stderr io.Writer) error {
	term := sess.cfg.Stdout
	if !isTerminal(term) {
		term = stderr
	}
	cfg := &readline.Config{
		Prompt:          prompt,
		InterruptPrompt: "^C",
		AutoComplete:    newCompleter(),
		Stdin:           stdin,
		Stdout:          term,
		Stderr:          stderr,
		// ctq keeps the history file itself: a statement spread over
		// lines is one entry (see encodeHistory).
		DisableAutoSaveHistory: true,
		HistoryLimit:           historyLimit,
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return fmt.Errorf("start the shell: %w", err)
	}
	defer rl.Close()
	histFile := historyPath()
	if histFile != "" {
		entries, err := loadHistory(histFile)
		if err != nil {
			fmt.Fprintf(stderr, "ctq: %v\n", err)
		}
		for _, e := range entries {
			_ = rl.SaveHistory(e) // in memory only: cfg has no HistoryFile
		}
	}
	errColour, errReset := "", ""
	if colourOn(stderr, os.Getenv) {
		errColour, errReset = colourError, colourReset
	}
	pending := "" // the lines so far of a statement that continues
	for {
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			pending = ""
			rl.SetPrompt(prompt)
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("read input: %w", err)
		}
		if pending == "" && strings.TrimSpace(line) == "" {
			continue
		}
		if cut, ok := strings.CutSuffix(line, "\\"); ok {
			// A backslash joins the next line to this one, as in a
			// shell.
			pending += strings.TrimRight(cut, " \t") + " "
			rl.SetPrompt(continuePrompt)
			continue
		}
		text := pending + line
		if incomplete(text) {
			pending = text + "\n"
			rl.SetPrompt(continuePrompt)
			continue
		}
		pending = ""
		rl.SetPrompt(prompt)
		_ = rl.SaveHistory(text)
		if histFile != "" {
			if err := appendHistory(histFile, text); err != nil {
				fmt.Fprintf(stderr, "ctq: %v\n", err)
				histFile = "" // said once
			}
		}
		err = runInterruptible(ctx, sess, text)
		if sess.exited {
			return err
		}
		if err != nil {
			fmt.Fprintf(stderr, "%sctq: %v%s\n", errColour, err, errReset)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// The shell's prompts, and the colour of its error messages.
const (
	prompt         = "ctq> "
	continuePrompt = "...> "
	colourError    = "\x1b[31m"
	colourReset    = "\x1b[0m"
)

// incomplete reports whether text stops inside an open bracket, string or
// comment, so the statement goes on on the next line.
func incomplete(text string) bool {
	_, err := lang.Parse(text)
	var le *lang.Error
	return errors.As(err, &le) && le.Incomplete
}

// runInterruptible runs one line with SIGINT cancelling just that line.
func runInterruptible(ctx context.Context, sess *Session, line string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt)
	defer signal.Stop(sigc)
	go func() {
		select {
		case <-sigc:
			cancel()
		case <-ctx.Done():
		}
	}()
	return sess.Run(ctx, "", line)
}
