//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// nlmsg encodes one netlink message with its padding.
func nlmsg(typ, flags uint16, data []byte) []byte {
	n := nlmsgHdrLen + len(data)
	b := make([]byte, (n+3)&^3)
	binary.NativeEndian.PutUint32(b[0:], uint32(n))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], 7)
	copy(b[nlmsgHdrLen:], data)
	return b
}

func errno32(code int32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(code))
	return b
}

func TestParseDumpDatagram(t *testing.T) {
	const multi = uint16(netlink.Multi)
	entry := uint16(nfnlSubsysCTNetlink<<8 | ipctnlMsgCtNew)
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name  string
		in    []byte
		msgs  int
		lens  []int
		done  bool
		errno unix.Errno
		bad   bool
	}{
		{name: "entries", in: cat(nlmsg(entry, multi, []byte{1, 2, 3}), nlmsg(entry, multi, []byte{1, 2, 3, 4, 5})), msgs: 2, lens: []int{3, 5}},
		{name: "entries then done", in: cat(nlmsg(entry, multi, []byte{1}), nlmsg(nlmsgDone, multi, errno32(0))), msgs: 1, lens: []int{1}, done: true},
		{name: "done without errno", in: nlmsg(nlmsgDone, multi, nil), done: true},
		{name: "done with an error", in: nlmsg(nlmsgDone, multi, errno32(-int32(unix.EINTR))), errno: unix.EINTR},
		{name: "refused request", in: nlmsg(nlmsgError, 0, cat(errno32(-int32(unix.EOPNOTSUPP)), make([]byte, 16))), errno: unix.EOPNOTSUPP},
		{name: "empty", in: nil},
		{name: "short header is ignored", in: []byte{1, 2, 3}},
		{name: "length beyond the datagram", in: nlmsg(entry, multi, []byte{1, 2, 3})[:18], bad: true},
		{name: "length below the header", in: func() []byte { b := nlmsg(entry, multi, nil); b[0] = 4; return b }(), bad: true},
		{name: "unpadded last message", in: nlmsg(entry, multi, []byte{9})[:17], msgs: 1, lens: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, done, err := parseDumpDatagram(tt.in, nil)
			switch {
			case tt.errno != 0:
				var oe *netlink.OpError
				if !errors.As(err, &oe) || !errors.Is(err, tt.errno) {
					t.Fatalf("error %v, want an OpError with %v", err, tt.errno)
				}
			case tt.bad:
				if err == nil {
					t.Fatal("no error for a malformed datagram")
				}
			case err != nil:
				t.Fatalf("error %v", err)
			}
			if done != tt.done || len(msgs) != tt.msgs {
				t.Fatalf("done %v with %d messages, want %v with %d", done, len(msgs), tt.done, tt.msgs)
			}
			for i, m := range msgs {
				if len(m.Data) != tt.lens[i] || m.Header.Type != netlink.HeaderType(entry) || m.Header.Sequence != 7 {
					t.Errorf("message %d: %+v with %d bytes", i, m.Header, len(m.Data))
				}
			}
		})
	}
}

func FuzzParseDumpDatagram(f *testing.F) {
	f.Add(nlmsg(nfnlSubsysCTNetlink<<8|ipctnlMsgCtNew, uint16(netlink.Multi), []byte{1, 2, 3}))
	f.Add(nlmsg(nlmsgDone, uint16(netlink.Multi), errno32(0)))
	f.Add(nlmsg(nlmsgError, 0, errno32(-1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _, _ := parseDumpDatagram(b, nil)
		total := 0
		for _, m := range msgs {
			if int(m.Header.Length) != nlmsgHdrLen+len(m.Data) {
				t.Fatalf("message length %d with %d data bytes", m.Header.Length, len(m.Data))
			}
			total += int(m.Header.Length)
		}
		if total > len(b) {
			t.Fatalf("%d message bytes from a %d-byte datagram", total, len(b))
		}
	})
}
