//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// tutorialStep is a command of docs/tutorial.md and the output shown for
// it.
type tutorialStep struct {
	line int // of the command in the page
	cmd  string
	want []string
}

// tutorialSteps reads the console blocks of a page: "$ " starts a
// command, "> " continues it, other lines are its output.
func tutorialSteps(page string) []tutorialStep {
	var (
		steps []tutorialStep
		in    bool
	)
	for i, line := range strings.Split(page, "\n") {
		switch {
		case line == "```console":
			in = true
		case line == "```":
			in = false
		case !in:
		case strings.HasPrefix(line, "$ "):
			steps = append(steps, tutorialStep{line: i + 1, cmd: line[2:]})
		case len(steps) > 0 && len(steps[len(steps)-1].want) == 0 && (strings.HasPrefix(line, "> ") || line == ">"):
			s := &steps[len(steps)-1]
			s.cmd += "\n" + strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
		case len(steps) > 0:
			s := &steps[len(steps)-1]
			s.want = append(s.want, line)
		}
	}
	return steps
}

// tutorialLine matches an output line against a line of the page, where
// "*" stands for a number.
func tutorialLine(want, got string) bool {
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(want), `\*`, `[0-9]+`) + "$"
	return regexp.MustCompile(re).MatchString(got)
}

func TestTutorialSteps(t *testing.T) {
	page := "text\n```console\n$ a\n> b\n>\nout 1\n```\n```sh\n$ not run\n```\n```console\n$ c\n```\n"
	steps := tutorialSteps(page)
	if len(steps) != 2 || steps[0].cmd != "a\nb\n" || len(steps[0].want) != 1 || steps[0].want[0] != "out 1" ||
		steps[1].cmd != "c" || steps[1].want != nil || steps[1].line != 12 {
		t.Errorf("tutorialSteps = %+v", steps)
	}
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{"tcp 6 * ESTABLISHED", "tcp 6 599 ESTABLISHED", true},
		{"tcp 6 * ESTABLISHED", "tcp 6 x ESTABLISHED", false},
		{"a.b", "axb", false},
		{"4", "4", true},
		{"4", "44", false},
	} {
		if got := tutorialLine(tc.want, tc.got); got != tc.ok {
			t.Errorf("tutorialLine(%q, %q) = %v", tc.want, tc.got, got)
		}
	}
}

// TestTutorial runs docs/tutorial.md: each command in order, in
// namespaces and a directory of the test's own (the page's names
// rewritten), comparing the output with the page's.
func TestTutorial(t *testing.T) {
	nstest.RequireCommand(t, "ip")
	page, err := os.ReadFile("../../docs/tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	bin := buildCtq(t)
	var suffix [3]byte
	rand.Read(suffix[:])
	tag := "ctqt-tut" + hex.EncodeToString(suffix[:])
	dir := t.TempDir()
	rewrite := strings.NewReplacer("ctqlab", tag+"-lab", "ctqfw", tag+"-fw",
		"/tmp/ctq-tutorial", filepath.Join(dir, "tut"))
	t.Cleanup(func() {
		// After a failure: the nodes the page started, then its namespaces.
		exec.Command("pkill", "-f", dir).Run()
		for _, ns := range []string{"-lab", "-fw1", "-fw2"} {
			exec.Command("ip", "netns", "del", tag+ns).Run()
		}
	})
	env := append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "NO_COLOR=1")
	steps := tutorialSteps(string(page))
	if len(steps) < 20 {
		t.Fatalf("docs/tutorial.md has %d commands: the page or its parser changed", len(steps))
	}
	for _, s := range steps {
		// A generous bound (no speed is asserted): a node that never
		// answers must not hang the test.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "-c", rewrite.Replace(s.cmd))
		cmd.WaitDelay = 5 * time.Second
		cmd.Env = env
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			logs, _ := exec.Command("sh", "-c", "tail -n 20 "+filepath.Join(dir, "tut", "*.log")+" "+filepath.Join(dir, "tut", "*.err")).CombinedOutput()
			t.Fatalf("docs/tutorial.md:%d: %s: %v\n%s\nlogs:\n%s", s.line, s.cmd, err, out.String(), logs)
		}
		got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if out.Len() == 0 {
			got = nil
		}
		ok := len(got) == len(s.want)
		for i := 0; ok && i < len(got); i++ {
			ok = tutorialLine(rewrite.Replace(s.want[i]), got[i])
		}
		if !ok {
			t.Fatalf("docs/tutorial.md:%d: %s\nprinted:\n%s\nthe page shows:\n%s", s.line, s.cmd, out.String(), strings.Join(s.want, "\n"))
		}
	}
}
