package link

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"ctq/sync/wire"
)

// stream is n control messages back to back (ALIVE and ACK, 8 and 16
// bytes), sequence numbers from seq.
func stream(t testing.TB, n int, seq uint32) []byte {
	t.Helper()
	var b []byte
	for i := range n {
		m := &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagAlive, Seq: seq + uint32(i)}}
		if i%2 == 1 {
			m = &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagACK, Seq: seq + uint32(i)},
				Control: &wire.Control{From: 1, To: 2}}
		}
		var err error
		if b, err = wire.AppendMessage(b, m); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// frameAll reads r through a framer and returns the chunks it yields,
// and the fill error that ended it.
func frameAll(r io.Reader, size int) ([][]byte, error) {
	var f framer
	var out [][]byte
	buf := make([]byte, size)
	for {
		if n, ok := f.next(buf); ok {
			out = append(out, append([]byte(nil), buf[:n]...))
			continue
		}
		if err := f.fill(r); err != nil {
			if errors.Is(err, errFraming) {
				out = append(out, append([]byte(nil), buf[:f.drain(buf)]...))
			}
			return out, err
		}
	}
}

func TestFramer(t *testing.T) {
	msgs := stream(t, 9, 100)
	tests := []struct {
		name    string
		r       io.Reader
		size    int
		framing bool
		want    []byte
	}{
		{"whole", bytes.NewReader(msgs), maxMessage, false, msgs},
		{"one byte a read", iotest.OneByteReader(bytes.NewReader(msgs)), maxMessage, false, msgs},
		{"half reads", iotest.HalfReader(bytes.NewReader(msgs)), maxMessage, false, msgs},
		{"small buffer", bytes.NewReader(msgs), 20, false, msgs},
		// A partial trailing message is held, never handed over.
		{"partial tail", bytes.NewReader(msgs[:len(msgs)-3]), maxMessage, false, msgs[:len(msgs)-8]},
		// A length shorter than a header cannot be framed: what is held
		// goes to the decoder.
		{"bad length", bytes.NewReader(append(stream(t, 1, 1), 0x1a, 0x10, 0, 4, 0, 0, 0, 9)), maxMessage, true,
			append(stream(t, 1, 1), 0x1a, 0x10, 0, 4, 0, 0, 0, 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, err := frameAll(tt.r, tt.size)
			if tt.framing != errors.Is(err, errFraming) {
				t.Fatalf("ended with %v", err)
			}
			if !tt.framing && !errors.Is(err, io.EOF) {
				t.Fatalf("ended with %v, want EOF", err)
			}
			var got []byte
			for i, c := range chunks {
				got = append(got, c...)
				if tt.framing && i == len(chunks)-1 {
					continue
				}
				if len(c) > tt.size {
					t.Errorf("chunk of %d bytes for a %d-byte buffer", len(c), tt.size)
				}
				if err := wire.Decode(c, func(_ *wire.Message, err error) error { return err }); err != nil {
					t.Errorf("chunk %d: %v", i, err)
				}
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("framed %x\nwant %x", got, tt.want)
			}
		})
	}
}

// FuzzFramer checks that any stream, read in any chunk size, comes out as
// a prefix of itself cut at message boundaries.
func FuzzFramer(f *testing.F) {
	f.Add(stream(f, 5, 7), uint8(3))
	f.Add([]byte{0x1a, 0x10, 0, 4, 0, 0, 0, 9}, uint8(1))
	f.Add([]byte{0x10, 0, 0xff, 0xfc, 1, 2, 3}, uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		r := io.Reader(bytes.NewReader(in))
		if step%2 == 1 {
			r = iotest.OneByteReader(r)
		}
		chunks, err := frameAll(r, maxMessage)
		var got []byte
		for i, c := range chunks {
			last := errors.Is(err, errFraming) && i == len(chunks)-1
			for rest := c; len(rest) >= wire.HeaderLen && !last; {
				l := int(rest[2])<<8 | int(rest[3])
				if l < wire.HeaderLen || l > len(rest) {
					t.Fatalf("chunk %d not cut at a message boundary: %x", i, c)
				}
				rest = rest[l:]
			}
			got = append(got, c...)
		}
		if !bytes.HasPrefix(in, got) {
			t.Fatalf("framed %x, not a prefix of %x", got, in)
		}
	})
}

func TestTCPErrorQueue(t *testing.T) {
	q := &TCP{queueLen: 2, closed: false, connErr: nil, kick: make(chan struct{}, 1)}
	for i := range 3 {
		if err := q.Send([]byte{byte(i)}); err == nil {
			t.Fatal("send without a connection succeeded")
		}
	}
	// The oldest was dropped.
	if len(q.queue) != 2 || q.queue[0][0] != 1 || q.queue[1][0] != 2 || q.Stats().SendErrors != 3 {
		t.Errorf("queue %v, stats %+v", q.queue, q.Stats())
	}
}
