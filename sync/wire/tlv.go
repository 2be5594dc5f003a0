package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// align4 rounds n up to a multiple of 4 (NTA_ALIGN).
func align4(n int) int {
	return (n + 3) &^ 3
}

// walkTLVs calls fn for every TLV of a data message's body, checking each
// the way conntrackd's msg2ct and msg2exp do: the walk goes on while more
// than a TLV header's worth of bytes is left; a TLV must be at least a
// header long and fit in what is left; its type must be below len(sizes);
// a fixed-size type (sizes[t] > 0) must have exactly that value size and a
// variable one must not exceed maxTLV[t] bytes, header included. A last
// TLV whose padding runs past the end is accepted.
func walkTLVs(body []byte, sizes, maxTLV []int, fn func(t uint16, v []byte) error) error {
	for off := 0; len(body)-off > attrHeaderLen; {
		n := int(binary.BigEndian.Uint16(body[off:]))
		t := binary.BigEndian.Uint16(body[off+2:])
		switch {
		case n > len(body)-off:
			return fmt.Errorf("attribute %d at %d: length %d exceeds the %d bytes left", t, off, n, len(body)-off)
		case n < attrHeaderLen:
			return fmt.Errorf("attribute %d at %d: length %d is shorter than its header", t, off, n)
		case int(t) >= len(sizes):
			return fmt.Errorf("attribute %d at %d: unknown type", t, off)
		case sizes[t] > 0 && n != attrHeaderLen+sizes[t]:
			return fmt.Errorf("attribute %d at %d: length %d, want %d", t, off, n, attrHeaderLen+sizes[t])
		case maxTLV[t] > 0 && n > maxTLV[t]:
			return fmt.Errorf("attribute %d at %d: length %d exceeds %d", t, off, n, maxTLV[t])
		}
		if err := fn(t, body[off+attrHeaderLen:off+n]); err != nil {
			return fmt.Errorf("attribute %d at %d: %w", t, off, err)
		}
		off += align4(n)
	}
	return nil
}

// cString returns the NUL-terminated string at the start of v; it fails
// when v holds no NUL (conntrackd would read past the attribute).
func cString(v []byte) (string, error) {
	for i, b := range v {
		if b == 0 {
			return string(v[:i]), nil
		}
	}
	return "", fmt.Errorf("string of %d bytes without NUL terminator", len(v))
}

// validCString checks that s fits a NUL-terminated attribute of at most
// max characters.
func validCString(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%q is longer than %d bytes", s, max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("%q contains a NUL byte", s)
		}
	}
	return nil
}

// be16 and friends read fixed-size values.
func be16(v []byte) uint16 { return binary.BigEndian.Uint16(v) }
func le16(v []byte) uint16 { return binary.LittleEndian.Uint16(v) }
func be32(v []byte) uint32 { return binary.BigEndian.Uint32(v) }

// addrPair reads a source and destination address of size bytes each.
func addrPair(v []byte, size int) (src, dst netip.Addr) {
	return addrOf(v[:size]), addrOf(v[size : 2*size])
}

// addrOf reads a 4- or 16-byte address.
func addrOf(v []byte) netip.Addr {
	if len(v) == sizeIPv4 {
		return netip.AddrFrom4([4]byte(v))
	}
	return netip.AddrFrom16([16]byte(v))
}

// tlvWriter appends TLVs to a message under construction.
type tlvWriter struct {
	b []byte
}

// header appends a TLV header for a value of n bytes.
func (w *tlvWriter) header(t uint16, n int) {
	w.b = binary.BigEndian.AppendUint16(w.b, uint16(attrHeaderLen+n))
	w.b = binary.BigEndian.AppendUint16(w.b, t)
}

// pad appends the zero padding after a value of n bytes.
func (w *tlvWriter) pad(n int) {
	for i := n; i < align4(n); i++ {
		w.b = append(w.b, 0)
	}
}

func (w *tlvWriter) u8(t uint16, v uint8) {
	w.header(t, sizeU8)
	w.b = append(w.b, v)
	w.pad(sizeU8)
}

func (w *tlvWriter) be16(t uint16, v uint16) {
	w.header(t, sizeU16)
	w.b = binary.BigEndian.AppendUint16(w.b, v)
	w.pad(sizeU16)
}

func (w *tlvWriter) le16(t uint16, v uint16) {
	w.header(t, sizeU16)
	w.b = binary.LittleEndian.AppendUint16(w.b, v)
	w.pad(sizeU16)
}

func (w *tlvWriter) be32(t uint16, vs ...uint32) {
	w.header(t, 4*len(vs))
	for _, v := range vs {
		w.b = binary.BigEndian.AppendUint32(w.b, v)
	}
}

func (w *tlvWriter) ports(t uint16, src, dst uint16) {
	w.header(t, sizePorts)
	w.b = binary.BigEndian.AppendUint16(w.b, src)
	w.b = binary.BigEndian.AppendUint16(w.b, dst)
}

// addrs appends addresses, each in its 4- or 16-byte form.
func (w *tlvWriter) addrs(t uint16, as ...netip.Addr) {
	n := 0
	for _, a := range as {
		n += a.BitLen() / 8
	}
	w.header(t, n)
	for _, a := range as {
		if a.Is4() {
			v := a.As4()
			w.b = append(w.b, v[:]...)
		} else {
			v := a.As16()
			w.b = append(w.b, v[:]...)
		}
	}
}

// cString appends s and its NUL terminator.
func (w *tlvWriter) cString(t uint16, s string) {
	w.header(t, len(s)+1)
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
	w.pad(len(s) + 1)
}
