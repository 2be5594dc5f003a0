package lang

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"

	"ctq/engine"
)

// protocolsFile is the protocol name database (protocols(5)).
var protocolsFile = "/etc/protocols"

// protocols holds the names and aliases of protocolsFile, read once.
var protocols struct {
	once sync.Once
	num  map[string]int
}

// protoByName maps a protocol name of /etc/protocols (a name or an alias,
// exactly as written there: esp, IPSEC-ESP) to its number. The names
// conntrack has (engine.ProtoNames) are not looked up there in any case:
// a flow's proto holds them, lowercase.
func protoByName(name string) (int, bool) {
	if _, ok := engine.ProtoNum(name); ok {
		return 0, false
	}
	protocols.once.Do(func() { protocols.num = readProtocols(protocolsFile) })
	n, ok := protocols.num[name]
	return n, ok
}

// readProtocols reads a protocols(5) file: "name number [alias ...]
// [# comment]" lines. A missing or unreadable file gives no names.
func readProtocols(path string) map[string]int {
	out := map[string]int{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		n, err := strconv.Atoi(fields[1])
		if err != nil || n < 0 || n > 255 {
			continue
		}
		for _, name := range append(fields[:1], fields[2:]...) {
			if _, dup := out[name]; !dup {
				out[name] = n
			}
		}
	}
	return out
}
