//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

func TestParseRelease(t *testing.T) {
	tests := []struct {
		release      string
		major, minor int
		ok           bool
	}{
		{"6.18.44-fc-v669", 6, 18, true},
		{"5.15.0-105-generic", 5, 15, true},
		{"4.18.0-553.el8_10.x86_64", 4, 18, true},
		{"6.8", 6, 8, true},
		{"6.10-rc3", 6, 10, true},
		{"6", 0, 0, false},
		{"x.1.2", 0, 0, false},
		{"6.y", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, ok := parseRelease(tt.release)
		if major != tt.major || minor != tt.minor || ok != tt.ok {
			t.Errorf("parseRelease(%q) = %d, %d, %v; want %d, %d, %v",
				tt.release, major, minor, ok, tt.major, tt.minor, tt.ok)
		}
	}
}

func TestSupportFromRelease(t *testing.T) {
	tests := []struct {
		release string
		want    engine.FilterSupport
	}{
		{"3.10.0", engine.FilterSupport{}},
		{"4.19.1", engine.FilterSupport{Mark: true}},
		{"4.20.0", engine.FilterSupport{Family: true, Mark: true}},
		{"5.8.0", engine.FilterSupport{Family: true, Mark: true, Tuple: true}},
		{"5.15.0-105-generic", engine.FilterSupport{Family: true, Mark: true, Status: true, Tuple: true}},
		{"6.7.12", engine.FilterSupport{Family: true, Mark: true, Status: true, Tuple: true}},
		{"6.8.0", allSupported},
		{"6.18.44-fc-v669", allSupported},
		{"10.0", allSupported},
		{"garbage", engine.FilterSupport{}},
	}
	for _, tt := range tests {
		tt.want.Kernel = tt.release
		if got := supportFromRelease(tt.release); got != tt.want {
			t.Errorf("supportFromRelease(%q) = %+v, want %+v", tt.release, got, tt.want)
		}
	}
}

func TestFilterRejected(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&netlink.OpError{Op: "receive", Err: unix.EINVAL}, true},
		{fmt.Errorf("dump: %w", &netlink.OpError{Op: "receive", Err: unix.EOPNOTSUPP}), true},
		{&netlink.OpError{Op: "receive", Err: unix.EPERM}, false},
		{errors.New("other"), false},
	}
	for _, tt := range tests {
		if got := filterRejected(tt.err); got != tt.want {
			t.Errorf("filterRejected(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// The probes must be requests a kernel with the filter rejects: the
// status probe has a status mask without a status, the tuple probe a port
// flag without the protocol flag.
func TestProbeRequests(t *testing.T) {
	walk := func(b []byte) map[uint16][]byte {
		m := map[uint16][]byte{}
		for b = b[nfgenmsgLen:]; len(b) > 0; {
			typ, val, rest, err := nextAttr(b)
			if err != nil {
				t.Fatal(err)
			}
			m[typ], b = val, rest
		}
		return m
	}
	for name, req := range map[string][]byte{"status": probeStatus(), "tuple": probeTuple()} {
		if req[0] != engine.FamilyIPv4 {
			t.Errorf("%s probe family %d, want AF_INET", name, req[0])
		}
		a := walk(req)
		if string(a[ctaMarkMask]) != "\x00\x00\x00\x00" || a[ctaMark] == nil {
			t.Errorf("%s probe lacks the match-nothing mark filter: %x", name, req)
		}
		switch name {
		case "status":
			if a[ctaStatusMask] == nil || a[ctaStatus] != nil {
				t.Errorf("status probe: %x", req)
			}
		case "tuple":
			f := walk(append([]byte{0, 0, 0, 0}, a[ctaFilter]...))
			fl := f[ctaFilterOrigFlags]
			if len(fl) != 4 {
				t.Fatalf("tuple probe flags: %x", req)
			}
			flags := engine.TupleFields(binary.NativeEndian.Uint32(fl))
			if a[ctaTupleOrig] == nil || flags&engine.TupleSport == 0 || flags&engine.TupleProto != 0 {
				t.Errorf("tuple probe: %x", req)
			}
		}
	}
}
