package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDistinct checks the group counts the grouping cases must print
// against a plain set of the synthetic flows' addresses.
func TestDistinct(t *testing.T) {
	for _, n := range []int{0, 1, 4, 20000, 200000} {
		src, dst := map[string]bool{}, map[string]bool{}
		for i := range n {
			s := synth(i)
			src[s.src.String()] = true
			dst[s.dst.String()] = true
		}
		if got := distinctSources(n); got != len(src) {
			t.Errorf("distinctSources(%d) = %d, want %d", n, got, len(src))
		}
		if got := distinctDestinations(n); got != len(dst) {
			t.Errorf("distinctDestinations(%d) = %d, want %d", n, got, len(dst))
		}
	}
}

// nlmsg is one netlink message: a header and its payload, padded to 4.
func nlmsg(typ uint16, payload []byte) []byte {
	b := make([]byte, 16, 16+len(payload)+3)
	binary.NativeEndian.PutUint32(b[0:4], uint32(16+len(payload)))
	binary.NativeEndian.PutUint16(b[4:6], typ)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestCountDumpMessages(t *testing.T) {
	entry := nlmsg(1<<8, []byte{2, 0, 0, 0, 1, 2, 3}) // ctnetlink, IPCTNL_MSG_CT_NEW; an odd length
	errno := make([]byte, 4)
	code := -int32(unix.ENOBUFS)
	binary.NativeEndian.PutUint32(errno, uint32(code))
	var three []byte
	for range 3 {
		three = append(three, entry...)
	}
	for _, tt := range []struct {
		name    string
		b       []byte
		n       int
		done    bool
		wantErr bool
	}{
		{"entries", three, 3, false, false},
		{"entries then done", append(append([]byte{}, three...), nlmsg(3, make([]byte, 4))...), 3, true, false},
		{"done with an error", nlmsg(3, errno), 0, false, true},
		{"error message", append(append([]byte{}, entry...), nlmsg(2, errno)...), 1, false, true},
		{"truncated", entry[:len(entry)-4], 0, false, true},
		{"empty", nil, 0, false, false},
	} {
		n, done, err := countDumpMessages(tt.b)
		if n != tt.n || done != tt.done || (err != nil) != tt.wantErr {
			t.Errorf("%s: %d, %v, %v; want %d, %v, error %v", tt.name, n, done, err, tt.n, tt.done, tt.wantErr)
		}
	}
}

func TestOwnNamespaces(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"ctqbench-42-list", "ctqbench-42-burst", "ctqbench-421-list", "ctqbench-7-list", "other"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ownNamespaces(dir, namespacePrefix(42))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ctqbench-42-burst", "ctqbench-42-list"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, err := ownNamespaces(filepath.Join(dir, "none"), "x"); err != nil || got != nil {
		t.Errorf("a missing directory: %v, %v", got, err)
	}
}
