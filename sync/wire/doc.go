// Package wire encodes and decodes the messages of conntrackd's state
// synchronisation protocol, version 1, byte for byte as conntrackd 1.4.7
// (and 1.4.8, 1.4.9, which did not change it) sends and checks them. It is
// only the codec: no sockets, no sequence tracking, no caches.
//
// # Framing
//
// A UDP datagram (or a stretch of a TCP stream) is a concatenation of
// messages and nothing else: no datagram header, no checksum, no
// authentication. Every message starts with an 8-byte Header:
//
//	byte 0     version<<4 | type     (version 1; types in MsgType)
//	byte 1     flags                 (Flags: RESYNC NACK ACK ALIVE HELLO HELLO_BACK)
//	bytes 2-3  length, big-endian    (whole message, header included)
//	bytes 4-7  sequence, big-endian
//
// ACK, NACK and RESYNC control messages add a sequence range (Control:
// from and to, big-endian) and are 16 bytes; ALIVE is the bare header.
// HELLO and HELLO_BACK may ride on any message. Data messages (CT NEW, UPD,
// DEL and EXP NEW, UPD, DEL) carry TLVs: {length BE16 = 4 + value length,
// type BE16, value, zero padding to 4 bytes}, described by Conntrack and
// Expect. The receiver demands an exact length for every fixed-size type and
// drops the whole message on an unknown type.
//
// # Byte order
//
// Addresses and the port groups are in network order, and so are status,
// timeout, mark, zone and the other integers, except three: NTA_ICMP_ID,
// NTA_SPAT_PORT and NTA_DPAT_PORT, which conntrackd on little-endian hosts
// (x86, arm64) sends little-endian. This package reads and writes those
// three little-endian, to interoperate with such peers; the fields hold
// the plain numbers (an ICMP id of 0x1234 travels as 34 12). The SCTP
// verification tags travel in network order, that is as the kernel holds
// them; engine.Flow keeps conntrack(8)'s form of them (those bytes read in
// host order), and ToFlow and FromFlow convert.
//
// # API
//
//	Decode(datagram, fn)         walk the messages of a datagram; fn gets each
//	                             *Message, or an *Error (with a Kind after
//	                             conntrackd's receive counters)
//	AppendMessage(dst, m)        append the encoding of one message
//	(*Conntrack).FromFlow(f)     the attributes conntrackd sends for a kernel entry
//	(*Conntrack).ToFlow(f)       an engine.Flow from received attributes, with the
//	                             reply tuple the receiver would commit
//
// Conntrack and Expect keep every attribute of the protocol, including the
// ones engine.Flow has no field for (master tuple, NAT sequence
// adjustment, TCP window scale, SYN proxy), and a set of the attributes
// present, so that decoding and encoding again loses nothing: AppendMessage
// of a decoded message yields a message that decodes to the same value,
// and the same bytes as conntrackd sent when the sender was conntrackd.
//
// Decode checks what conntrackd's receiver checks, in its order, and sorts
// rejected messages into the Kinds of its error counters. The test
// TestInteropConntrackd holds this package against a live conntrackd: every
// message conntrackd sends re-encodes to the same bytes, conntrackd takes
// what AppendMessage makes (and commits NATed entries with the reply tuple
// ToFlow predicts), and its counters match the Kinds Decode reports for a
// set of bad datagrams.
//
// A typical receive loop:
//
//	err := wire.Decode(buf[:n], func(m *wire.Message, err error) error {
//		if err != nil {
//			var werr *wire.Error
//			errors.As(err, &werr)
//			stats.count(werr.Kind) // "Malformed payload", ...
//			return nil
//		}
//		switch {
//		case m.CT != nil:
//			var f engine.Flow
//			m.CT.ToFlow(&f)
//			...
//		case m.Header.IsACK():
//			... m.Control.From, m.Control.To
//		}
//		return nil
//	})
//
// and sending:
//
//	var ct wire.Conntrack
//	ct.FromFlow(&flow)
//	buf, err = wire.AppendMessage(buf, &wire.Message{
//		Header: wire.Header{Type: wire.NET_T_STATE_CT_NEW, Seq: seq},
//		CT:     &ct,
//	})
package wire
