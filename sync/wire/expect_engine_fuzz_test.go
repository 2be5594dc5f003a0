package wire

import (
	"reflect"
	"testing"

	"ctq/engine"
)

// FuzzExpectEngine checks the conversion of received expectations: for
// every EXP message Decode accepts, ToExpect never panics, FromExpect of
// the result always encodes (it is what a node would advertise of such an
// expectation in its kernel), and one more round through the wire gives
// the same engine.Expect.
func FuzzExpectEngine(f *testing.F) {
	f.Add(unhex(f, dataMsg("1440", ftpExpectHex)))
	seed := kernelFTPExpect()
	natSeed := kernelFTPExpect()
	natSeed.Has |= engine.HasExpNAT
	natSeed.NATDir, natSeed.NATProtoNum, natSeed.NATSrc, natSeed.NATSport = 1, engine.ProtoTCP, a4("0.0.0.0"), 50000
	for _, e := range []*engine.Expect{&seed, &natSeed} {
		var x Expect
		x.FromExpect(e)
		b, err := AppendMessage(nil, &Message{Header: Header{Type: MsgExpUpdate, Seq: 1}, Exp: &x})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, datagram []byte) {
		Decode(datagram, func(m *Message, err error) error {
			if err != nil || m.Exp == nil {
				return nil
			}
			var first engine.Expect
			m.Exp.ToExpect(&first)
			var x Expect
			x.FromExpect(&first)
			b, err := AppendMessage(nil, &Message{Header: m.Header, Exp: &x})
			if err != nil {
				t.Fatalf("FromExpect of %+v does not encode: %v", first, err)
			}
			ms := decodeAll(t, b)
			if len(ms) != 1 || ms[0].Exp == nil {
				t.Fatalf("re-encoded to %+v", ms)
			}
			var second engine.Expect
			ms[0].Exp.ToExpect(&second)
			var y Expect
			y.FromExpect(&second)
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("not stable:\n%+v\n%+v", x, y)
			}
			return nil
		})
	})
}
