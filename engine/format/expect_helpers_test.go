package format

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

// eb builds a test expectation step by step.
type eb struct{ e engine.Expect }

// expect starts an expectation with its expected tuple.
func expect(family string, proto int, src, dst string, sport, dport int) *eb {
	b := &eb{}
	b.e.Family = family
	b.e.ProtoNum, b.e.Proto = proto, engine.ProtoName(proto)
	b.e.Src = netip.MustParseAddr(src)
	b.e.Dst = netip.MustParseAddr(dst)
	b.e.Sport, b.e.Dport = sport, dport
	return b
}

func (b *eb) mask(src, dst string, sport, dport int) *eb {
	b.e.MaskSrc = netip.MustParseAddr(src)
	b.e.MaskDst = netip.MustParseAddr(dst)
	b.e.MaskSport, b.e.MaskDport = sport, dport
	b.e.Has |= engine.HasExpMask
	return b
}

func (b *eb) master(proto int, src, dst string, sport, dport int) *eb {
	b.e.MasterProtoNum, b.e.MasterProto = proto, engine.ProtoName(proto)
	b.e.MasterSrc = netip.MustParseAddr(src)
	b.e.MasterDst = netip.MustParseAddr(dst)
	b.e.MasterSport, b.e.MasterDport = sport, dport
	b.e.Has |= engine.HasExpMaster
	return b
}

func (b *eb) timeout(t int) *eb    { b.e.Timeout = t; b.e.Has |= engine.HasExpTimeout; return b }
func (b *eb) id(i int) *eb         { b.e.ID = i; b.e.Has |= engine.HasExpID; return b }
func (b *eb) zone(z int) *eb       { b.e.Zone = z; b.e.Has |= engine.HasExpZone; return b }
func (b *eb) helper(h string) *eb  { b.e.Helper = h; b.e.Has |= engine.HasExpHelper; return b }
func (b *eb) class(c int) *eb      { b.e.Class = c; b.e.Has |= engine.HasExpClass; return b }
func (b *eb) flags(f int) *eb      { b.e.SetFlags(f); return b }
func (b *eb) fn(name string) *eb   { b.e.Fn = name; b.e.Has |= engine.HasExpFn; return b }
func (b *eb) build() engine.Expect { return b.e }

// at is the time sec.usec.
func at(sec, usec int64) time.Time { return time.Unix(sec, usec*1000) }

// ftpExpect is the expectation of the captures: the ftp helper of the
// master connection 192.0.2.1:masterPort -> 192.0.2.1:21 expects a data
// connection to port dport. The kernel sends every attribute but the id
// here, and flags 0.
func ftpExpect(dport, masterPort, timeout int) *eb {
	return expect("ipv4", 6, "192.0.2.1", "192.0.2.1", 0, dport).
		mask("255.255.255.255", "255.255.255.255", 0, 65535).
		master(6, "192.0.2.1", "192.0.2.1", masterPort, 21).
		timeout(timeout).class(0).helper("ftp").flags(0)
}

// captureOutput returns the "out|" lines (each with its newline) that
// follow the command line "$ cmd" in a capture transcript of testdata.
func captureOutput(t *testing.T, file, cmd string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "captures", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	in := false
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "$ ") {
			in = !found && line == "$ "+cmd
			found = found || in
			continue
		}
		if in {
			if s, ok := strings.CutPrefix(line, "  out| "); ok {
				out.WriteString(s + "\n")
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("%s: no command %q", file, cmd)
	}
	return out.String()
}

// readCapture returns a capture file of testdata.
func readCapture(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "captures", file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
