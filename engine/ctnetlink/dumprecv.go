//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A dump is received into a few buffers that go round between the
// receiving goroutine and the decoding one: the receiver reads a datagram
// into a free buffer and hands it over with its messages (which point into
// it); the decoder gives the buffer back once it has decoded them. Reading
// through the library instead allocates and clears a fresh 32 KiB buffer
// for every datagram, and copies into it: for a table of a million entries
// that is a gigabyte of memory traffic, page faults and garbage collection
// on the path that bounds a dump's speed.

// dumpBuffers is how many buffers a dump receives into: enough for the
// receiver to read ahead while the decoder works.
const dumpBuffers = 4

// dumpDatagram is one received datagram: its messages (multi-part done
// and error messages removed), or the error that ended the dump.
type dumpDatagram struct {
	buf  []byte
	msgs []netlink.Message
	err  error
}

// dumpReceiver receives the rest of a dump in a goroutine of its own.
type dumpReceiver struct {
	out  chan *dumpDatagram
	free chan *dumpDatagram
}

// receiveDump starts receiving the rest of a dump on c. Datagrams arrive
// on the channel in order; each must be given back with recycle once its
// messages are no longer used. The channel closes after the dump's done
// message, after a datagram carrying an error, or once quit is closed (the
// caller must also make a blocked read return, with a read deadline).
func receiveDump(c *netlink.Conn, quit <-chan struct{}) (*dumpReceiver, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("receive dump: %w", err)
	}
	r := &dumpReceiver{
		out:  make(chan *dumpDatagram, dumpBuffers),
		free: make(chan *dumpDatagram, dumpBuffers),
	}
	for range dumpBuffers {
		r.free <- &dumpDatagram{buf: make([]byte, messageBufferSize)}
	}
	go func() {
		defer close(r.out)
		for {
			var d *dumpDatagram
			select {
			case d = <-r.free:
			case <-quit:
				return
			}
			var n, flags int
			var rerr error
			err := rc.Read(func(fd uintptr) bool {
				n, _, flags, _, rerr = unix.Recvmsg(int(fd), d.buf, nil, 0)
				return rerr != unix.EAGAIN
			})
			if err == nil {
				err = rerr
			}
			var done bool
			switch {
			case err != nil:
				d.msgs, d.err = d.msgs[:0], &netlink.OpError{Op: "receive", Err: err}
			case flags&unix.MSG_TRUNC != 0:
				d.msgs, d.err = d.msgs[:0], &netlink.OpError{Op: "receive", Err: errors.New("dump datagram longer than the receive buffer")}
			default:
				d.msgs, done, d.err = parseDumpDatagram(d.buf[:n], d.msgs[:0])
			}
			select {
			case r.out <- d:
			case <-quit:
				return
			}
			if done || d.err != nil {
				return
			}
		}
	}()
	return r, nil
}

// recycle gives a datagram's buffer back to the receiver.
func (r *dumpReceiver) recycle(d *dumpDatagram) {
	r.free <- d
}

// nlmsgDone and nlmsgError are NLMSG_DONE and NLMSG_ERROR.
const (
	nlmsgDone  = 0x3
	nlmsgError = 0x2
)

// parseDumpDatagram splits a datagram of a dump into messages appended to
// msgs (their data points into b). done reports the dump's end (a
// multi-part done message); an error message, or a done message carrying
// an error number, ends the dump with that error.
func parseDumpDatagram(b []byte, msgs []netlink.Message) (_ []netlink.Message, done bool, _ error) {
	for len(b) >= nlmsgHdrLen {
		h := netlink.Header{
			Length:   binary.NativeEndian.Uint32(b[0:4]),
			Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:6])),
			Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:8])),
			Sequence: binary.NativeEndian.Uint32(b[8:12]),
			PID:      binary.NativeEndian.Uint32(b[12:16]),
		}
		if h.Length < nlmsgHdrLen || int(h.Length) > len(b) {
			return msgs, false, &netlink.OpError{Op: "receive", Err: fmt.Errorf("malformed netlink message: length %d of %d bytes left", h.Length, len(b))}
		}
		data := b[nlmsgHdrLen:h.Length:h.Length]
		switch {
		case h.Type == nlmsgError, h.Type == nlmsgDone && h.Flags&netlink.Multi != 0:
			if len(data) >= 4 {
				if code := int32(binary.NativeEndian.Uint32(data)); code != 0 {
					return msgs, false, &netlink.OpError{Op: "receive", Err: unix.Errno(-code)}
				}
			}
			if h.Type == nlmsgDone {
				return msgs, true, nil
			}
		default:
			msgs = append(msgs, netlink.Message{Header: h, Data: data})
		}
		al := (int(h.Length) + 3) &^ 3
		if al > len(b) {
			break
		}
		b = b[al:]
	}
	return msgs, false, nil
}
