package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"ctq/engine/format"
	"ctq/internal/cli"
	"ctq/lang"
	"ctq/lang/ctargs"
	"ctq/repl"
	"ctq/repl/conntrack"
	ctd "ctq/sync/conntrackd"
	"ctq/sync/daemon"
	"ctq/sync/verb"
)

// facts are what the generated files say, read from ctq's tables.
type facts struct {
	flags []cli.Flag
	// subcommands are ctq's other programs (ctq conntrack).
	subcommands []cli.Subcommand
	// subcommandOptions are the long options a subcommand's completion
	// offers, by subcommand name.
	subcommandOptions map[string][]string
	// differences are where the conntrack and conntrackd front ends
	// deliberately differ from conntrack-tools 1.4.7: each a command
	// line (or "") and what ctq does.
	differences []difference
	statements  []statement
	fields      []string
	expect      []string
	constants   []string
	tables      []string
	formats     []named
	// topics are the help topics that are not statements, with their
	// help text (expressions, scripts, shell).
	topics map[string]string
	// sync are the sync statement's actions with the conntrackd option
	// that does the same.
	sync []named
	// syncConfigs are the configuration files a sync node reads without a
	// path, in order.
	syncConfigs []string
}

// statement is a statement and its help text after the syntax.
type statement struct {
	lang.Statement
	help string
}

// named is a word with a line that describes it.
type named struct{ name, text string }

// subjects are the help topics the man page has sections for, besides
// the statements, with the section's title.
var subjects = []named{
	{"expressions", "EXPRESSIONS"},
	{"scripts", "SCRIPTS"},
	{"shell", "INTERACTIVE SHELL"},
}

// exitCodes are ctq's exit codes (repl's) and what they mean.
var exitCodes = []struct {
	code int
	text string
}{
	{repl.ExitOK, "Success (also after exit or exit 0)."},
	{repl.ExitRuntime, "A runtime or kernel error: the statement that failed is named; statements before it ran. " +
		"With --fail-empty, also a statement that selected or changed nothing (every statement ran)."},
	{repl.ExitUsage, "A usage, parse or type error, a bad line in a saved table or a load file, or a bad sync configuration: nothing ran."},
	{repl.ExitInterrupted, "Interrupted by SIGINT (Ctrl-C) outside the interactive shell."},
}

// conntrackd is the conntrackd(8) command line that does what each sync
// action does, keyed by the action (verb.Actions). sync/control answers
// conntrackd's own client with the same mapping; a test checks that every
// action has an entry.
var conntrackd = map[string]string{
	"run":                    "conntrackd -C PATH (the daemon, in the foreground)",
	"start":                  "conntrackd -d -C PATH (ctq's node lives as long as the session)",
	"stop":                   "conntrackd -k",
	"status":                 "conntrackd -s",
	"commit":                 "conntrackd -c",
	"commit conntrack":       "conntrackd -c ct",
	"commit expect":          "conntrackd -c expect",
	"flush":                  "conntrackd -f",
	"flush internal":         "conntrackd -f internal",
	"flush external":         "conntrackd -f external",
	"flush kernel":           "conntrackd -F",
	"flush kernel conntrack": "conntrackd -F ct",
	"flush kernel expect":    "conntrackd -F expect",
	"resync":                 "conntrackd -n",
	"refresh":                "conntrackd -R",
	"refresh conntrack":      "conntrackd -R ct",
	"refresh expect":         "conntrackd -R expect",
	"bulk":                   "conntrackd -B",
	"purge":                  "conntrackd -t",
	"dump internal":          "conntrackd -i",
	"dump external":          "conntrackd -e",
	"dump internal expect":   "conntrackd -i expect",
	"dump external expect":   "conntrackd -e expect",
}

// gather reads the facts from ctq's tables.
func gather() (*facts, error) {
	d := &facts{
		flags:             cli.Flags(),
		subcommands:       cli.Subcommands(),
		subcommandOptions: map[string][]string{"conntrack": ctargs.LongOptions()},
		differences:       differences(),
		fields:            lang.Fields(),
		expect:            lang.ExpectFields(),
		constants:         lang.Constants(),
		tables:            lang.Tables(),
		topics:            map[string]string{},
		syncConfigs:       daemon.DefaultConfigPaths(),
	}
	for _, s := range lang.Statements() {
		h, err := help(s.Keyword)
		if err != nil {
			return nil, err
		}
		body, ok := strings.CutPrefix(h, s.Syntax+"\n")
		if !ok {
			return nil, fmt.Errorf("help %s does not start with the syntax of %s", s.Keyword, s.Keyword)
		}
		d.statements = append(d.statements, statement{s, body})
	}
	for _, s := range subjects {
		h, err := help(s.name)
		if err != nil {
			return nil, err
		}
		d.topics[s.name] = h
	}
	for _, name := range format.Names() {
		d.formats = append(d.formats, named{name, formatText(name)})
	}
	for _, a := range verb.Actions(verb.Statement) {
		c, ok := conntrackd[a]
		if !ok {
			return nil, fmt.Errorf("sync %s: no conntrackd equivalent in ctqdoc's table", a)
		}
		d.sync = append(d.sync, named{a, c})
	}
	if len(d.sync) != len(conntrackd) {
		return nil, fmt.Errorf("ctqdoc's conntrackd table has %d actions, sync/verb %d", len(conntrackd), len(d.sync))
	}
	return d, nil
}

// help is ctq's help on topic, as `ctq -e 'help TOPIC'` prints it,
// without the final newline.
func help(topic string) (string, error) {
	var out, errs bytes.Buffer
	s := repl.NewSession(repl.Config{Stdout: &out, Stderr: &errs})
	defer s.Close()
	if err := s.Run(context.Background(), "", "help "+topic); err != nil {
		return "", fmt.Errorf("help %s: %v", topic, err)
	}
	return strings.TrimRight(out.String(), "\n"), nil
}

// formatText is the line that describes a format name: its summary, or
// for one of conntrack's text flags without one, what it is.
func formatText(name string) string {
	if s := format.Summary(name); s != "" {
		return s
	}
	return "conntrack -o " + name + " (a flag of the text and xml formats)"
}

// difference is one deliberate difference of a front end.
type difference struct {
	program, example, text string
}

// differences gathers the front ends' lists of deliberate differences.
func differences() []difference {
	var out []difference
	for _, d := range ctargs.Differences {
		out = append(out, difference{"conntrack", "conntrack " + d.Command, "1.4.7 " + d.Conntrack + "; ctq " + d.Ctq})
	}
	for _, d := range conntrack.Differences {
		out = append(out, difference{"conntrack", "", d})
	}
	for _, d := range ctd.Differences {
		out = append(out, difference{"conntrackd", "", d})
	}
	return out
}
