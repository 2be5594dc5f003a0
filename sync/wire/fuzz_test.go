package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics on any datagram, reports only
// *Error values of known kinds, stops after a fatal one, and that every
// message it accepts encodes, and decodes again to the same value (bar the
// declared length) and the same bytes.
func FuzzDecode(f *testing.F) {
	for _, tc := range goldenMessages {
		f.Add(unhex(f, tc.hex))
	}
	for _, tc := range goldenControl {
		f.Add(unhex(f, tc.hex))
	}
	f.Add(unhex(f, goldenTCP+goldenUDP+alive+goldenICMP))
	f.Add(unhex(f, dataMsg("1440", ftpExpectHex)))
	f.Add(unhex(f, dataMsg("1000", "0014001c8000000100000000000000000000000200050002060000000008001b66747000")))
	f.Add(unhex(f, dataMsg("1020", helloBody+"0008002800000001")))
	f.Add(unhex(f, dataMsg("2020", helloBody)+alive))
	f.Fuzz(func(t *testing.T, datagram []byte) {
		fatal := false
		err := Decode(datagram, func(m *Message, err error) error {
			if fatal {
				t.Fatal("callback after a fatal error")
			}
			if err != nil {
				var werr *Error
				if !errors.As(err, &werr) || werr.Kind < KindTruncated || werr.Kind > KindBadPayload {
					t.Fatalf("bad error %#v", err)
				}
				if werr.Offset < 0 || werr.Offset >= len(datagram) {
					t.Fatalf("error offset %d outside the datagram", werr.Offset)
				}
				fatal = werr.Kind.Fatal()
				return nil
			}
			checkReencode(t, m)
			return nil
		})
		if err != nil {
			t.Fatalf("Decode returned %v", err)
		}
	})
}

// checkReencode encodes m, decodes the result and encodes it again.
func checkReencode(t *testing.T, m *Message) {
	t.Helper()
	b, err := AppendMessage(nil, m)
	if err != nil {
		t.Fatalf("decoded message %+v does not encode: %v", m, err)
	}
	var again []*Message
	if err := Decode(b, func(m2 *Message, err error) error {
		if err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", b, err)
		}
		again = append(again, m2)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 {
		t.Fatalf("re-encoded %x decodes to %d messages", b, len(again))
	}
	want := *m
	want.Header.Len = uint16(len(b))
	if !reflect.DeepEqual(*again[0], want) {
		t.Fatalf("re-decoded\n%+v\nwant\n%+v\n(%s)", *again[0], want, hex.EncodeToString(b))
	}
	b2, err := AppendMessage(nil, again[0])
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("second encoding %x (%v), first %x", b2, err, b)
	}
}
