package engine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// LoadConnlabels reads the label names from the first of the files
// conntrack(8) and iptables use (/etc/xtables/connlabel.conf, then
// /etc/connlabel.conf) that exists. It returns nil and no error when none
// does.
func LoadConnlabels() (map[int]string, error) {
	for _, p := range [...]string{"/etc/xtables/connlabel.conf", "/etc/connlabel.conf"} {
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read label names: %w", err)
		}
		defer f.Close()
		m, err := ParseConnlabels(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return m, nil
	}
	return nil, nil
}

// ParseConnlabels parses connlabel.conf: one "BIT NAME" pair a line, "#"
// comments, bits 0 to 127.
func ParseConnlabels(r io.Reader) (map[int]string, error) {
	m := map[int]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		bit, err := strconv.Atoi(fields[0])
		if err != nil || bit < 0 || bit > 127 || len(fields) != 2 {
			return nil, fmt.Errorf("line %d: want \"BIT NAME\" with BIT 0..127, got %q", n, line)
		}
		m[bit] = fields[1]
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}
