//go:build linux

package ctnetlink

import (
	"encoding/binary"
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

// How many buffers a dump receives into: enough for the receiver to read
// ahead while the decoder works.
//
// With 4, a grouping of a million entries by source (a map update an
// entry) left the receiver waiting for a free buffer some 200 times, 87
// ms in all, each a pause of the kernel's work; with 16 (half a
// megabyte), about 5 ms. A dump that feeds a batch (a delete, an update)
// is paced by the batch's requests instead: they need the cores a
// further read-ahead would take, and a delete of 30k of 100k entries took
// 137 ms with 4 buffers, 147 with 16 (medians of 16 runs each).
const (
	dumpBuffers      = 16
	batchDumpBuffers = 4
)

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

// receiveDump starts receiving the rest of a dump on c into the given
// number of buffers. Datagrams arrive
// on the channel in order; each must be given back with recycle once its
// messages are no longer used. The channel closes after the dump's done
// message, after a datagram carrying an error, or once quit is closed (the
// caller must also make a blocked read return, with a read deadline).
func receiveDump(c *netlink.Conn, buffers int, quit <-chan struct{}) (*dumpReceiver, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("receive dump: %w", err)
	}
	r := &dumpReceiver{
		out:  make(chan *dumpDatagram, buffers),
		free: make(chan *dumpDatagram, buffers),
	}
	for range buffers {
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
			var done bool
			b, err := readDatagram(rc, d.buf)
			if err != nil {
				d.msgs, d.err = d.msgs[:0], err
			} else {
				d.msgs, done, d.err = parseDumpDatagram(b, d.msgs[:0])
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
	var end error
	err := eachMessage(b, func(h netlink.Header, data []byte) bool {
		switch {
		case h.Type == nlmsgError, h.Type == nlmsgDone && h.Flags&netlink.Multi != 0:
			if errno := answerErrno(data); errno != 0 {
				end = &netlink.OpError{Op: "receive", Err: errno}
				return false
			}
			if h.Type == nlmsgDone {
				done = true
				return false
			}
		default:
			msgs = append(msgs, netlink.Message{Header: h, Data: data})
		}
		return true
	})
	if err == nil {
		err = end
	}
	return msgs, done, err
}

// eachMessage calls fn with each netlink message of datagram b, its
// header and its data (which point into b), until fn returns false.
func eachMessage(b []byte, fn func(h netlink.Header, data []byte) bool) error {
	for len(b) >= nlmsgHdrLen {
		h := netlink.Header{
			Length:   binary.NativeEndian.Uint32(b[0:4]),
			Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:6])),
			Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:8])),
			Sequence: binary.NativeEndian.Uint32(b[8:12]),
			PID:      binary.NativeEndian.Uint32(b[12:16]),
		}
		if h.Length < nlmsgHdrLen || int(h.Length) > len(b) {
			return &netlink.OpError{Op: "receive", Err: fmt.Errorf("malformed netlink message: length %d of %d bytes left", h.Length, len(b))}
		}
		if !fn(h, b[nlmsgHdrLen:h.Length:h.Length]) {
			return nil
		}
		al := (int(h.Length) + 3) &^ 3
		if al > len(b) {
			break
		}
		b = b[al:]
	}
	return nil
}

// answerErrno is the error number of an error (or done) message's data
// (struct nlmsgerr starts with the negative errno); 0 for none.
func answerErrno(data []byte) unix.Errno {
	if len(data) < 4 {
		return 0
	}
	return unix.Errno(-int32(binary.NativeEndian.Uint32(data)))
}
