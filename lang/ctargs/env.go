package ctargs

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Env is what parsing needs from the system: the protocol database and
// the connlabel.conf label names. Parse does no I/O of its own.
type Env struct {
	// ProtoByName is getprotobyname(3): the number of an /etc/protocols
	// name or alias (case-sensitive).
	ProtoByName func(name string) (int, bool)
	// ProtoByNumber is getprotobynumber(3): the official name of a
	// protocol number.
	ProtoByNumber func(num int) (string, bool)
	// LabelMap reads the label names of /etc/xtables/connlabel.conf
	// (nfct_labelmap_new(NULL)), name to bit. It is called when a command
	// line first needs them; an error is reported as conntrack's perror
	// line "nfct_labelmap_new: <strerror>", and labels are then unknown.
	LabelMap func() (map[string]int, error)
}

// ConnlabelPath is the label file conntrack 1.4.7 reads (libnetfilter_conntrack's
// CONNLABEL_CFG).
const ConnlabelPath = "/etc/xtables/connlabel.conf"

// SystemEnv reads the real /etc/protocols (now) and ConnlabelPath (when
// a command line needs it).
func SystemEnv() *Env {
	byName, byNum := readProtocols("/etc/protocols")
	return &Env{
		ProtoByName: func(name string) (int, bool) {
			n, ok := byName[name]
			return n, ok
		},
		ProtoByNumber: func(num int) (string, bool) {
			n, ok := byNum[num]
			return n, ok
		},
		LabelMap: func() (map[string]int, error) {
			f, err := os.Open(ConnlabelPath)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return ParseLabelMap(f)
		},
	}
}

// ErrNoLabels is ParseLabelMap's error for a file without a single
// usable label; conntrack then reports "nfct_labelmap_new: Success"
// (errno 0).
var ErrNoLabels = errors.New("connlabel.conf holds no label")

// ParseLabelMap reads a connlabel.conf as libnetfilter_conntrack 1.0.9
// does (nfct_labelmap_new): lines "BIT NAME" read in pieces of at most
// 1023 bytes; a line starting with '#', without a leading number (strtoul
// base 0, leading spaces allowed) or with a bit of 1024 or more is
// skipped; NAME is the rest of the line without surrounding spaces, and
// may hold only letters, digits, spaces and '-'; the first line of a bit
// and of a name wins. It returns ErrNoLabels when no line gave a label.
func ParseLabelMap(r io.Reader) (map[string]int, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	seen := map[int]bool{}
	text := string(data)
	for text != "" {
		n := strings.IndexByte(text, '\n') + 1
		if n == 0 {
			n = len(text)
		}
		if n > 1023 {
			n = 1023
		}
		line := text[:n]
		text = text[n:]
		if line[0] == '#' {
			continue
		}
		if i := strings.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		v, end := strtoul(line, 0)
		if end == 0 || v >= 1024 || seen[int(v)] {
			continue
		}
		name := line[end:]
		if i := strings.IndexByte(name, '\n'); i >= 0 {
			name = name[:i]
		}
		name = strings.Trim(name, " \f\r\t\v")
		if name == "" || strings.TrimLeft(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -") != "" {
			continue
		}
		if _, dup := m[name]; dup {
			continue
		}
		m[name] = int(v)
		seen[int(v)] = true
	}
	if len(m) == 0 {
		return nil, ErrNoLabels
	}
	return m, nil
}

// readProtocols parses an /etc/protocols file: "name number aliases...",
// '#' comments. The first line of a name or number wins, as with the
// files backend of getprotobyname.
func readProtocols(path string) (map[string]int, map[int]string) {
	byName, byNum := map[string]int{}, map[int]string{}
	f, err := os.Open(path)
	if err != nil {
		return byName, byNum
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		num, err := strconv.Atoi(fields[1])
		if err != nil {
			continue
		}
		if _, ok := byNum[num]; !ok {
			byNum[num] = fields[0]
		}
		for i, n := range fields {
			if i == 1 {
				continue
			}
			if _, ok := byName[n]; !ok {
				byName[n] = num
			}
		}
	}
	return byName, byNum
}

// strerror is the C library's text of the errno behind err, as perror
// prints it ("No such file or directory").
func strerror(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, ErrNoLabels):
		return "Success"
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	case errors.As(err, &errno):
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return "Invalid argument"
}
