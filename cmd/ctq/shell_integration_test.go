//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// shell drives ctq's interactive shell in a tmux pane.
type shell struct {
	t       *testing.T
	session string
}

// startShell starts ctq with args in a detached tmux session, with HOME in
// a temporary directory (the history file goes there).
func startShell(t *testing.T, bin string, args ...string) *shell {
	t.Helper()
	return startShellCmd(t, fmt.Sprintf("HOME=%s %s %s", t.TempDir(), bin, strings.Join(args, " ")), "ctq>")
}

// startShellCmd starts the shell command line cmd (for sh -c) in a
// detached tmux session and waits until the pane shows ready.
func startShellCmd(t *testing.T, cmd, ready string) *shell {
	t.Helper()
	s := &shell{t: t, session: fmt.Sprintf("ctqshell%d", time.Now().UnixNano())}
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", s.session, "-x", "200", "-y", "40", cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", s.session).Run() })
	s.waitFor(ready)
	return s
}

// keys sends tmux key names or literal text.
func (s *shell) keys(keys ...string) {
	s.t.Helper()
	args := append([]string{"send-keys", "-t", s.session}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
}

// screen is what the pane shows (tmux drops trailing spaces).
func (s *shell) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", s.session).Output()
	return string(out)
}

// colours is what the pane shows, with its colour codes.
func (s *shell) colours() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-e", "-t", s.session).Output()
	return string(out)
}

// end sends Ctrl-D and waits until the shell is gone.
func (s *shell) end() {
	s.t.Helper()
	s.keys("C-d")
	deadline := time.Now().Add(10 * time.Second)
	for s.alive() {
		if time.Now().After(deadline) {
			s.t.Fatalf("Ctrl-D did not end the shell; screen:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor waits until the screen shows want, failing the test after a
// generous deadline (this bounds the wait; it asserts no speed).
func (s *shell) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		scr := s.screen()
		if strings.Contains(scr, want) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the shell never showed %q; screen:\n%s", want, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitForLast waits until the last non-empty line of the screen (where
// the cursor is) is want.
func (s *shell) waitForLast(want string) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := strings.Split(strings.TrimRight(s.screen(), "\n "), "\n")
		if last := lines[len(lines)-1]; last == want {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the last line never became %q; screen:\n%s", want, s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether the tmux session (so ctq) still runs.
func (s *shell) alive() bool {
	return exec.Command("tmux", "has-session", "-t", s.session).Run() == nil
}

// shellBench skips without tmux, marks the test parallel and returns the
// ctq binary and the saved table the shell tests query.
func shellBench(t *testing.T) (bin, table string) {
	t.Helper()
	nstest.RequireCommand(t, "tmux")
	t.Parallel()
	table, err := filepath.Abs("../../repl/testdata/table.save")
	if err != nil {
		t.Fatal(err)
	}
	return buildCtq(t), table
}

func TestShell(t *testing.T) {
	bin, table := shellBench(t)
	s := startShell(t, bin, "--from", table)

	// Tab completes a field name.
	s.keys("count where dpo", "Tab")
	s.waitFor("ctq> count where dport")
	s.keys("== 22", "Enter")
	s.waitFor("\n2\n")

	// Up recalls the last statement.
	s.waitForLast("ctq>")
	s.keys("Up")
	s.waitForLast("ctq> count where dport == 22")
	s.keys("C-u")

	// An open bracket continues the statement on the next line.
	s.keys("list where (proto ==", "Enter")
	s.waitFor("...>")
	s.keys("udp) as save", "Enter")
	s.waitFor("-A -t 29 -u SEEN_REPLY -s 192.0.2.1")

	// Errors show the caret; the shell goes on.
	s.keys("list where dprt == 1", "Enter")
	s.waitFor("did you mean `dport`?")

	// Ctrl-C at the prompt does not leave; Ctrl-D does.
	s.keys("C-c")
	time.Sleep(200 * time.Millisecond)
	if !s.alive() {
		t.Fatal("Ctrl-C at the prompt ended the shell")
	}
	s.keys("help count", "Enter")
	s.waitFor("count [TABLE] [where EXPR]")
	s.end()
}

// TestShellHistory checks that a statement spread over lines comes back
// whole with Up, also in the next session, and that a backslash joins
// lines as in a shell.
func TestShellHistory(t *testing.T) {
	bin, table := shellBench(t)
	cmd := fmt.Sprintf("HOME=%s %s --from %s", t.TempDir(), bin, table)
	s := startShellCmd(t, cmd, "ctq>")
	s.keys("count \\", "Enter")
	s.waitFor("...>")
	s.keys("where dport == 22", "Enter")
	s.waitFor("\n2\n")
	s.keys("list where (proto ==", "Enter")
	s.waitFor("...>")
	s.keys("udp) as save", "Enter")
	s.waitFor("-A -t 29 -u SEEN_REPLY -s 192.0.2.1")
	s.end()

	s = startShellCmd(t, cmd, "ctq>")
	s.keys("Up")
	s.waitFor("ctq> list where (proto ==\nudp) as save")
	s.keys("Up")
	s.waitForLast("ctq> count where dport == 22")
	s.keys("Down", "Enter")
	s.waitFor("-A -t 29 -u SEEN_REPLY -s 192.0.2.1")
	s.end()
}

// TestShellTerminalOutput checks that the shell writes no prompt or
// editing codes to a standard output that is not a terminal (they go to
// stderr), and colours errors only without NO_COLOR.
func TestShellTerminalOutput(t *testing.T) {
	bin, table := shellBench(t)
	const red = "\x1b[31m"
	for _, noColor := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "out")
		env := "NO_COLOR="
		if noColor {
			env = "NO_COLOR=1"
		}
		s := startShellCmd(t, fmt.Sprintf("HOME=%s %s %s --from %s > %s", t.TempDir(), env, bin, table, out), "ctq>")
		s.keys("count where dpo", "Tab")
		s.waitFor("ctq> count where dport")
		s.keys("== 22", "Enter")
		s.keys("bogus", "Enter")
		s.waitFor("unknown statement `bogus`")
		if got := strings.Contains(s.colours(), red); got == noColor {
			t.Errorf("NO_COLOR=%v: red error message: %v; screen:\n%q", noColor, got, s.colours())
		}
		s.end()
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "2\n" {
			t.Errorf("standard output redirected to a file holds %q, want only the result", b)
		}
	}
}
