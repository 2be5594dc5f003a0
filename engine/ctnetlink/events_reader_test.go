//go:build linux

package ctnetlink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// nlBytes encodes messages as the kernel puts them in a datagram.
func nlBytes(msgs ...netlink.Message) []byte {
	var b []byte
	for _, m := range msgs {
		l := nlmsgHdrLen + len(m.Data)
		b = binary.NativeEndian.AppendUint32(b, uint32(l))
		b = binary.NativeEndian.AppendUint16(b, uint16(m.Header.Type))
		b = binary.NativeEndian.AppendUint16(b, uint16(m.Header.Flags))
		b = binary.NativeEndian.AppendUint32(b, m.Header.Sequence)
		b = binary.NativeEndian.AppendUint32(b, m.Header.PID)
		b = append(b, m.Data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

// withLength sets the header lengths splitMessages reports.
func withLength(msgs ...netlink.Message) []netlink.Message {
	for i := range msgs {
		msgs[i].Header.Length = uint32(nlmsgHdrLen + len(msgs[i].Data))
		if msgs[i].Data == nil {
			msgs[i].Data = []byte{}
		}
	}
	return msgs
}

func TestSplitMessages(t *testing.T) {
	a := eventMsg(ipctnlMsgCtNew, netlink.Create|netlink.Excl, 7, 1)
	a.Header.Sequence = 3
	b := netlink.Message{Header: netlink.Header{Type: 0x0102, PID: 1}, Data: []byte{1, 2, 3}} // unaligned
	c := netlink.Message{Header: netlink.Header{Type: 3}}
	tests := []struct {
		name string
		in   []byte
		want []netlink.Message
		err  bool
	}{
		{"one", nlBytes(a), withLength(a), false},
		{"three", nlBytes(a, b, c), withLength(a, b, c), false},
		{"last without padding", nlBytes(a, b)[:nlmsgHdrLen*2+len(a.Data)+3], withLength(a, b), false},
		{"trailing bytes", append(nlBytes(c), 0, 0), withLength(c), false},
		{"empty", nil, nil, false},
		{"length too small", []byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, nil, true},
		{"length past the end", nlBytes(a)[:40], nil, true},
		{"bad second", append(nlBytes(c), nlBytes(a)[:20]...), withLength(c), true},
	}
	for _, tt := range tests {
		got, err := splitMessages(tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: splitMessages = %+v, %v; want %+v (error %v)", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func FuzzSplitMessages(f *testing.F) {
	a := eventMsg(ipctnlMsgCtNew, netlink.Create|netlink.Excl, 7, 1)
	f.Add(nlBytes(a))
	f.Add(nlBytes(a, netlink.Message{Data: []byte{1}}, a))
	f.Add([]byte{16, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := splitMessages(b)
		off := 0
		for i, m := range msgs {
			l := int(m.Header.Length)
			if l != nlmsgHdrLen+len(m.Data) || off+l > len(b) {
				t.Fatalf("message %d: length %d with %d data bytes at offset %d of %d", i, l, len(m.Data), off, len(b))
			}
			// The message re-encodes to the bytes it came from.
			if enc := nlBytes(m); !bytes.Equal(enc[:l], b[off:off+l]) {
				t.Fatalf("message %d re-encodes differently", i)
			}
			off = min((off+l+3)&^3, len(b))
		}
		if err == nil && len(b)-off >= nlmsgHdrLen {
			t.Fatalf("%d bytes left unsplit without an error", len(b)-off)
		}
	})
}

// socketPair returns a datagram socket for the test to write to and a
// datagramReader on its peer.
func socketPair(t *testing.T) (int, *datagramReader, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[1]), "reader")
	t.Cleanup(func() {
		unix.Close(fds[0])
		f.Close()
	})
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return fds[0], &datagramReader{rc: rc, nap: time.Millisecond}, f
}

func TestDatagramReader(t *testing.T) {
	w, r, f := socketPair(t)
	a := eventMsg(ipctnlMsgCtNew, netlink.Create|netlink.Excl, 7, 1)
	b := eventMsg(ipctnlMsgCtDelete, 0, 0, 2)
	datagrams := [][]netlink.Message{{a}, {a, b}, {b}}
	var kept [][]netlink.Message
	for _, d := range datagrams {
		if _, err := unix.Write(w, nlBytes(d...)); err != nil {
			t.Fatal(err)
		}
		got, err := r.recv()
		if err != nil || !reflect.DeepEqual(got, withLength(d...)) {
			t.Fatalf("recv = %+v, %v; want %+v", got, err, d)
		}
		kept = append(kept, got)
	}
	// Received datagrams keep their bytes while later ones arrive.
	for i, d := range datagrams {
		if !reflect.DeepEqual(kept[i], withLength(d...)) {
			t.Errorf("datagram %d changed after later receives", i)
		}
	}
	// A datagram that arrives while recv waits.
	go func() {
		time.Sleep(10 * time.Millisecond)
		unix.Write(w, nlBytes(b))
	}()
	if got, err := r.recv(); err != nil || !reflect.DeepEqual(got, withLength(b)) {
		t.Fatalf("waiting recv = %+v, %v", got, err)
	}
	// Too large a datagram.
	if _, err := unix.Write(w, make([]byte, datagramMax+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.recv(); !errors.Is(err, errTruncated) {
		t.Errorf("recv of a long datagram: %v, want %v", err, errTruncated)
	}
	// A past deadline ends a waiting recv.
	go func() {
		time.Sleep(10 * time.Millisecond)
		f.SetReadDeadline(time.Unix(1, 0))
	}()
	if _, err := r.recv(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("recv after the deadline: %v, want %v", err, os.ErrDeadlineExceeded)
	}
}
