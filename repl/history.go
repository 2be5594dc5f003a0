package repl

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// historyLimit is how many statements the shell's history keeps.
const historyLimit = 1000

// The history file holds a statement an entry. A statement of several
// lines is written with each of its lines but the last ending in a
// backslash, so that it comes back whole (Up recalls all of it, also in
// the next session). The file is private to its owner (mode 0600).

// encodeHistory is entry as the history file holds it, newline included.
func encodeHistory(entry string) string {
	return strings.ReplaceAll(entry, "\n", "\\\n") + "\n"
}

// loadHistory reads the last historyLimit entries of the history file at
// path; a missing file is an empty history.
func loadHistory(path string) ([]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	var (
		entries []string
		cur     strings.Builder
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if cut, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(cut)
			cur.WriteByte('\n')
			continue
		}
		cur.WriteString(line)
		entries = append(entries, cur.String())
		cur.Reset()
		if len(entries) > 2*historyLimit {
			entries = append(entries[:0], entries[len(entries)-historyLimit:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	if cur.Len() > 0 { // a file cut short after a continued line
		entries = append(entries, strings.TrimSuffix(cur.String(), "\n"))
	}
	if len(entries) > historyLimit {
		entries = entries[len(entries)-historyLimit:]
	}
	return entries, nil
}

// appendHistory appends entry to the history file at path, creating it
// (mode 0600) if need be.
func appendHistory(path, entry string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	_, werr := f.WriteString(encodeHistory(entry))
	if err := f.Close(); werr == nil && err != nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("save history %s: %w", path, werr)
	}
	return nil
}

// historyPath is ~/.ctq_history, or nothing without a home directory.
func historyPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".ctq_history")
}
