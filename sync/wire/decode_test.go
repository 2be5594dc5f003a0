package wire

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// outcome is what Decode reported for one message: "ok CT_NEW" or the kind
// of the error and its offset, "Malformed payload@0".
func outcomes(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	err := Decode(b, func(m *Message, err error) error {
		if err == nil {
			out = append(out, "ok "+m.Header.Type.String())
			return nil
		}
		var werr *Error
		if !errors.As(err, &werr) {
			t.Fatalf("error %v is not a *Error", err)
		}
		if m != nil {
			t.Errorf("message %+v passed with error %v", m, err)
		}
		out = append(out, fmt.Sprintf("%v@%d", werr.Kind, werr.Offset))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Hand-built TLV payloads, appended to a goldenHello-like header.
const (
	helloBody = "000c0000c6336432c633643c000800050000000e00050002060000000008000303e8001600050004030000000008000600000258"
	alive     = "1a1000086b037a1b"
)

// dataMsg builds a message of type/flags byte pair hdr ("1020") around a
// hex body, with the right length.
func dataMsg(hdr, body string) string {
	return fmt.Sprintf("%s%04x00000064%s", hdr, HeaderLen+len(body)/2, body)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want string
	}{
		// Truncated: fewer than 8 bytes, or fewer than 16 for a range.
		{"short header", alive + "1a1000", "ok CTL,Truncated message@8"},
		{"short ack", alive + "1a080008000000010000", "ok CTL,Truncated message@8"},
		// Bad size: the rest of the datagram goes.
		{"length 0", "1a100000000000001a1000086b037a1b", "Bad message size@0"},
		{"length past end", "1a100010000000001a100008", "Bad message size@0"},
		{"length below header", "1a100004000000001a1000086b037a1b", "Bad message size@0"},
		{"ack below 16", "1a080008000000011a1000086b037a1b", "Bad message size@0"},
		{"nack below 16", "1a04000c00000001000000001a100008", "Bad message size@0"},
		// Wrong version: skipped, the walk goes on.
		{"version 2", dataMsg("2020", helloBody) + alive, "Wrong protocol version@0,ok CTL"},
		{"version 0 control", "0a10000800000000" + alive + "1a02001000000001", "Wrong protocol version@0,ok CTL,Bad message size@16"},
		// Malformed header.
		{"data with ack flag", dataMsg("1008", helloBody) + alive, "Malformed header@0,ok CTL"},
		{"data with unused flag", dataMsg("1021", helloBody), "Malformed header@0"},
		{"control without flag", "1a20000800000001" + alive, "Malformed header@0,ok CTL"},
		{"control hello only", "1a60000800000001" + alive, "Malformed header@0,ok CTL"},
		{"ack backwards", "1a080010000000010000000500000004" + alive, "Malformed header@0,ok CTL"},
		{"nack backwards across wrap", "1a040010000000010000000080000001" + alive, "Malformed header@0,ok CTL"},
		// Bad type.
		{"type 6", dataMsg("1600", helloBody) + alive, "Bad message type@0,ok CTL"},
		{"type 15 hello", "1f20000800000001" + alive, "Bad message type@0,ok CTL"},
		// Malformed payload.
		{"unknown attribute 40", dataMsg("1020", helloBody+"0008002800000001") + alive, "Malformed payload@0,ok CTL"},
		{"attribute 33", dataMsg("1020", helloBody+"0008002100000001"), "Malformed payload@0"},
		{"l4proto length 8", "1020002c00000066000c0000c6336434c633643e000800050000000e00080002060000000008000303e80016", "Malformed payload@0"},
		{"attribute shorter than header", dataMsg("1000", "0003000500000000"), "Malformed payload@0"},
		{"attribute past message end", dataMsg("1000", "000c000000000000"), "Malformed payload@0"},
		{"helper too long", dataMsg("1000", "0011001b"+"6162636465666768696a6b6c00000000"), "Malformed payload@0"},
		{"helper without NUL", dataMsg("1000", "000c001b6162636465666768"), "Malformed payload@0"},
		{"empty helper", dataMsg("1000", "0004001b00050002"+"06000000"), "Malformed payload@0"},
		{"labels too long", dataMsg("1000", "0408001c"+strings.Repeat("00", 1028)), "Malformed payload@0"},
		{"exp attribute 21", dataMsg("1300", "000800150000000a"), "Malformed payload@0"},
		{"exp fn too long", dataMsg("1400", "0021001461"+strings.Repeat("62", 27)+"00"+"000000"), "Malformed payload@0"},
		{"exp helper without NUL", dataMsg("1300", "0008001361626364"), "Malformed payload@0"},
		{"exp fn without NUL", dataMsg("1300", "0008001461626364"), "Malformed payload@0"},
		{"exp timeout length 5", dataMsg("1500", "0005000c01000000"), "Malformed payload@0"},
		// Accepted oddities.
		{"trailing 4 bytes", dataMsg("1000", "00050002060000000000ffff"), "ok CT_NEW"},
		{"unaligned last attribute", dataMsg("1000", "0005000206"), "ok CT_NEW"},
		{"labels of 3 bytes ignored", dataMsg("1000", "0007001c01020300"), "ok CT_NEW"},
		{"empty labels ignored", dataMsg("1000", "0004001c00050002"+"06000000"), "ok CT_NEW"},
		{"alive longer than 8", "1a10000c0000000100000000" + alive, "ok CTL,ok CTL"},
		{"ack longer than 16", "1a08001400000001000000010000000200000000" + alive, "ok CTL,ok CTL"},
		{"empty datagram", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			if got := strings.Join(outcomes(t, b), ","); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDecodeTrailingLabels checks the lengths conntrackd ignores labels
// for leave an earlier label attribute in place.
func TestDecodeIgnoredLabels(t *testing.T) {
	b := unhex(t, dataMsg("1000", "0008001c80000001"+"0007001c01020300"))
	ms := decodeAll(t, b)
	c := ms[0].CT
	if !c.Attrs.Has(AttrLabels) || len(c.Labels) != 1 || c.Labels[0] != 0x80000001 {
		t.Errorf("labels %v %x, want the first attribute's", c.Attrs, c.Labels)
	}
}

// TestDecodeLastWins checks that of two attributes filling one field the
// later wins, and that the IPv4 and IPv6 forms replace each other.
func TestDecodeLastWins(t *testing.T) {
	b := unhex(t, dataMsg("1000",
		"000c0000c0000201c0000202"+ // IPV4 192.0.2.1 -> 192.0.2.2
			"0024000120010db800000000000000000000000120010db8000000000000000000000002"+ // IPV6
			"00080007000000010008000700000002"+ // MARK 1, MARK 2
			"0008000cc0000203"+ // SNAT_IPV4
			"0014001d20010db8000000000000000000000009")) // SNAT_IPV6
	c := decodeAll(t, b)[0].CT
	want := CTAttrs(0).With(AttrIPv6, AttrMark, AttrSNATIPv6)
	if c.Attrs != want || c.Orig.Src != a4("2001:db8::1") || c.Mark != 2 || c.SNATAddr != a4("2001:db8::9") {
		t.Errorf("got %v %+v mark %d snat %v, want %v", c.Attrs, c.Orig, c.Mark, c.SNATAddr, want)
	}
}

// TestDecodeStops checks that an error from the callback ends the walk.
func TestDecodeStops(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := Decode(unhex(t, alive+alive), func(*Message, error) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("Decode = %v after %d calls, want stop after 1", err, calls)
	}
	calls = 0
	err = Decode(unhex(t, "1a100000"+alive), func(*Message, error) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("Decode of a bad datagram = %v after %d calls, want stop after 1", err, calls)
	}
}

func TestErrorText(t *testing.T) {
	var got []string
	err := Decode(unhex(t, dataMsg("1020", helloBody+"0008002800000001")), func(_ *Message, err error) error {
		got = append(got, err.Error())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "sync message at offset 0: Malformed payload: CT_NEW payload: attribute 40 at 52: unknown type"
	if len(got) != 1 || got[0] != want {
		t.Errorf("errors %q, want %q", got, want)
	}
	if KindTruncated.Fatal() != true || KindBadPayload.Fatal() {
		t.Error("Fatal: want true for KindTruncated only of these two")
	}
	if s := Kind(0).String(); s != "kind(0)" {
		t.Errorf("Kind(0) = %q", s)
	}
}
