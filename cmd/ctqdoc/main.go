// Command ctqdoc writes ctq's man page and its bash, zsh and fish
// completions from the tables the parser, help and flag parser read:
// lang.Statements, lang.Fields, lang.ExpectFields, lang.Constants,
// lang.Tables, format.Names, the sync verbs of sync/verb, the help texts
// of a repl.Session, ctq's flags (internal/cli) and its exit codes (repl).
//
//	go run ./cmd/ctqdoc -man docs/man -completion contrib/completion
//
// writes docs/man/ctq.8 and contrib/completion/{ctq.bash,_ctq,ctq.fish}.
// The output depends on nothing but those tables and the flags: the files
// are committed, and a test fails when they differ from what ctqdoc
// writes now (run go generate ./cmd/ctqdoc after changing the grammar).
// -version puts a version in the man page's footer (the Debian package
// does). The page's date is that of its last change: ctqdoc keeps the
// date of the ctq.8 it replaces when nothing else differs, else it writes
// today's (or -date's).
package main

//go:generate go run . -man ../../docs/man -completion ../../contrib/completion

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	manDir := flag.String("man", "", "write ctq.8 into `DIR`")
	compDir := flag.String("completion", "", "write ctq.bash, _ctq and ctq.fish into `DIR`")
	version := flag.String("version", "", "the version in the man page's footer")
	date := flag.String("date", "", "the man page's date, `YYYY-MM-DD` (default: kept if the page is unchanged, else today)")
	flag.Parse()
	if flag.NArg() > 0 || (*manDir == "" && *compDir == "") {
		fmt.Fprintln(os.Stderr, "usage: ctqdoc [-man DIR] [-completion DIR] [-version V]")
		os.Exit(2)
	}
	if err := run(*manDir, *compDir, *version, *date); err != nil {
		fmt.Fprintln(os.Stderr, "ctqdoc:", err)
		os.Exit(1)
	}
}

// run writes the files into the directories that are not "".
func run(manDir, compDir, version, date string) error {
	if date == "" && manDir != "" {
		var err error
		if date, err = pageDate(filepath.Join(manDir, "ctq.8"), version); err != nil {
			return err
		}
	}
	files, err := generate(version, date)
	if err != nil {
		return err
	}
	for _, f := range files {
		dir := compDir
		if f.man {
			dir = manDir
		}
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// file is a generated file.
type file struct {
	name string
	man  bool // the man page, else a completion script
	data []byte
}

// pageDate is the date for the man page that replaces the one at path: its
// own when the new page would differ only in the date, else today's.
func pageDate(path, version string) (string, error) {
	today := time.Now().UTC().Format(time.DateOnly)
	old, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return today, nil
	}
	if err != nil {
		return "", err
	}
	date, ok := manDate(string(old))
	if !ok {
		return today, nil
	}
	d, err := gather()
	if err != nil {
		return "", err
	}
	if manPage(d, version, date) == string(old) {
		return date, nil
	}
	return today, nil
}

// manDate is the date in the .TH line of a page ctqdoc wrote.
func manDate(page string) (string, bool) {
	for _, l := range strings.Split(page, "\n") {
		if rest, ok := strings.CutPrefix(l, ".TH CTQ 8 \""); ok {
			date, _, ok := strings.Cut(rest, "\"")
			return date, ok
		}
	}
	return "", false
}

// generate returns every file ctqdoc writes.
func generate(version, date string) ([]file, error) {
	d, err := gather()
	if err != nil {
		return nil, err
	}
	return []file{
		{"ctq.8", true, []byte(manPage(d, version, date))},
		{"ctq.bash", false, []byte(bashCompletion(d))},
		{"_ctq", false, []byte(zshCompletion(d))},
		{"ctq.fish", false, []byte(fishCompletion(d))},
	}, nil
}
