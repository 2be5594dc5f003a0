//go:build linux

package ctnetlink

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
)

const netlinkTableHeader = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"

// netlinkRow formats one row of /proc/net/netlink.
func netlinkRow(proto int, portid uint32, ino uint64) string {
	return fmt.Sprintf("00000000c6aebf42 %-3d %-10d 00000007 0        0        0     2        0        %-8d\n", proto, portid, ino)
}

func TestNetlinkSocketInode(t *testing.T) {
	table := []byte(netlinkTableHeader +
		netlinkRow(0, 3503527454, 11) + // NETLINK_ROUTE socket with the same port ID
		netlinkRow(12, 0, 92262) +
		netlinkRow(12, 11941, 92272) +
		netlinkRow(12, 3503527454, 92273) +
		"garbage line\n" +
		"00000000c6aebf42 12  77 00000007 0 0 0 2 0 notanumber\n")
	tests := []struct {
		portid uint32
		ino    uint64
		ok     bool
	}{
		{3503527454, 92273, true},
		{11941, 92272, true},
		{0, 92262, true},
		{77, 0, false},
		{12345, 0, false},
	}
	for _, tt := range tests {
		ino, ok := netlinkSocketInode(table, tt.portid)
		if ino != tt.ino || ok != tt.ok {
			t.Errorf("netlinkSocketInode(%d) = %d, %v; want %d, %v", tt.portid, ino, ok, tt.ino, tt.ok)
		}
	}
}

func FuzzNetlinkSocketInode(f *testing.F) {
	f.Add([]byte(netlinkTableHeader+netlinkRow(12, 42, 7)), uint32(42))
	f.Add([]byte(netlinkRow(12, 4294967295, 18446744073709551615)), uint32(4294967295))
	f.Add([]byte("x 12 42 0 0 0 0 0 0 -1\n"), uint32(42))
	f.Fuzz(func(t *testing.T, table []byte, portid uint32) {
		ino, ok := netlinkSocketInode(table, portid)
		if !ok {
			return
		}
		if ino == 0 {
			t.Fatal("found inode 0")
		}
		// The row found is in the table: protocol, port ID and inode as
		// whitespace-separated fields.
		found := false
		for line := range strings.Lines(string(table)) {
			f := strings.Fields(line)
			if len(f) >= 10 && f[1] == "12" && strings.TrimLeft(f[2], "+0") == strings.TrimLeft(strconv.FormatUint(uint64(portid), 10), "0") {
				if n, err := strconv.ParseUint(f[9], 10, 64); err == nil && n == ino {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("inode %d for port ID %d is not in the table %q", ino, portid, table)
		}
	})
}

// fakeProc builds a procfs tree: processes with a name, a network
// namespace (whose netlink table is given per namespace) and open
// sockets.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T) *fakeProc {
	return &fakeProc{t: t, root: t.TempDir()}
}

func (p *fakeProc) process(name string, comm, netns string, table string, sockets ...uint64) {
	dir := filepath.Join(p.root, name)
	for _, d := range []string{"fd", "ns", "net"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			p.t.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			p.t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "net", "netlink"), []byte(netlinkTableHeader+table), 0o644))
	must(os.Symlink("net:["+netns+"]", filepath.Join(dir, "ns", "net")))
	must(os.Symlink("/dev/null", filepath.Join(dir, "fd", "0")))
	must(os.Symlink("pipe:[5]", filepath.Join(dir, "fd", "1")))
	for i, ino := range sockets {
		must(os.Symlink(fmt.Sprintf("socket:[%d]", ino), filepath.Join(dir, "fd", strconv.Itoa(3+i))))
	}
}

func TestProgNameFakeProc(t *testing.T) {
	p := newFakeProc(t)
	// Namespace A (the caller's): the caller (pid 10) and "loader" (pid
	// 20, its first socket has its PID, its second a random port ID).
	tableA := netlinkRow(12, 10, 100) + netlinkRow(12, 20, 200) + netlinkRow(12, 3000000000, 201) +
		netlinkRow(0, 4000000000, 300) + netlinkRow(12, 50, 500)
	// Namespace B: "watcher" (pid 30) with port IDs 30 and 3000000001, and
	// a socket with port ID 20 owned by "other" (pid 40).
	tableB := netlinkRow(12, 30, 1030) + netlinkRow(12, 3000000001, 1031) + netlinkRow(12, 20, 1040)
	p.process("10", "ctq", "A", tableA, 100)
	p.process("20", "loader", "A", tableA, 200, 201)
	p.process("30", "watcher", "B", tableB, 1030, 1031)
	p.process("40", "other", "B", tableB, 1040)
	if err := os.Symlink("10", filepath.Join(p.root, "self")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.root, "stat"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		portid uint32
		want   string
	}{
		{0, ""},
		{10, "ctq"},
		{20, "loader"},         // the process with that PID owns it
		{3000000000, "loader"}, // caller's namespace
		{3000000001, "watcher"},
		{30, "watcher"},
		{4000000000, ""}, // not a netfilter socket
		{50, ""},         // socket of a process that is gone
		{60, ""},
	}
	for _, tt := range tests {
		if got := progName(p.root, tt.portid); got != tt.want {
			t.Errorf("progName(%d) = %q, want %q", tt.portid, got, tt.want)
		}
	}
}

// TestProgNameSelf looks up a netfilter socket of the test process, whose
// port ID is not its PID, in the caller's namespace (the socket changes
// nothing in the table).
func TestProgNameSelf(t *testing.T) {
	var conns []*netlink.Conn
	for range 2 {
		c, err := netlink.Dial(netlinkNetfilter, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	self, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	want := string(bytes.TrimSpace(self))
	for _, c := range conns {
		if got := ProgName(c.PID()); got != want {
			t.Errorf("ProgName(%d) = %q, want %q (pid %d)", c.PID(), got, want, os.Getpid())
		}
	}
	if conns[0].PID() == conns[1].PID() {
		t.Fatalf("two sockets with port ID %d", conns[0].PID())
	}
}

func BenchmarkProgName(b *testing.B) {
	c, err := netlink.Dial(netlinkNetfilter, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, bc := range []struct {
		name   string
		portid uint32
	}{{"found", c.PID()}, {"missing", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				ProgName(bc.portid)
			}
		})
	}
}
