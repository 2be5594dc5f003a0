package ctargs

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"ctq/engine"
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
			bits, err := engine.ParseConnlabels(f)
			if err != nil {
				return nil, syscall.EINVAL
			}
			return LabelNames(bits), nil
		},
	}
}

// LabelNames inverts a bit-to-name label map (engine.ParseConnlabels)
// into the name-to-bit map Env.LabelMap returns; a name given to several
// bits names the lowest.
func LabelNames(bits map[int]string) map[string]int {
	m := make(map[string]int, len(bits))
	for bit, name := range bits {
		if b, ok := m[name]; !ok || bit < b {
			m[name] = bit
		}
	}
	return m
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
