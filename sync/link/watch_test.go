package link

import (
	"encoding/binary"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ifinfomsg is an ifinfomsg with index and flags, then attrs.
func ifinfomsg(index int32, flags uint32, attrs ...byte) []byte {
	b := make([]byte, sizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[ifiIndexOffset:], uint32(index))
	binary.NativeEndian.PutUint32(b[ifiFlagsOffset:], flags)
	return append(b, attrs...)
}

func TestLinkState(t *testing.T) {
	const upRunning = unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_BROADCAST
	for _, tc := range []struct {
		name   string
		typ    netlink.HeaderType
		data   []byte
		index  int
		up, ok bool
	}{
		{"up with carrier", unix.RTM_NEWLINK, ifinfomsg(7, upRunning, 1, 2, 3, 4), 7, true, true},
		{"admin down", unix.RTM_NEWLINK, ifinfomsg(7, unix.IFF_BROADCAST), 7, false, true},
		{"no carrier", unix.RTM_NEWLINK, ifinfomsg(7, unix.IFF_UP|unix.IFF_BROADCAST), 7, false, true},
		{"deleted", unix.RTM_DELLINK, ifinfomsg(9, upRunning), 9, false, true},
		{"short", unix.RTM_NEWLINK, ifinfomsg(7, upRunning)[:sizeofIfInfomsg-1], 0, false, false},
		{"not a link message", unix.RTM_NEWADDR, ifinfomsg(7, upRunning), 0, false, false},
	} {
		index, up, ok := linkState(netlink.Message{Header: netlink.Header{Type: tc.typ}, Data: tc.data})
		if index != tc.index || up != tc.up || ok != tc.ok {
			t.Errorf("%s: %d %v %v, want %d %v %v", tc.name, index, up, ok, tc.index, tc.up, tc.ok)
		}
	}
}

func FuzzLinkState(f *testing.F) {
	f.Add(uint16(unix.RTM_NEWLINK), ifinfomsg(3, unix.IFF_UP|unix.IFF_RUNNING))
	f.Add(uint16(unix.RTM_DELLINK), ifinfomsg(-1, 0, 8, 0, 3, 0))
	f.Add(uint16(unix.RTM_NEWLINK), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, typ uint16, data []byte) {
		index, up, ok := linkState(netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(typ)}, Data: data})
		if !ok {
			if index != 0 || up {
				t.Errorf("not ok but %d, %v", index, up)
			}
			return
		}
		if len(data) < sizeofIfInfomsg || index != int(int32(binary.NativeEndian.Uint32(data[ifiIndexOffset:]))) {
			t.Errorf("index %d from %x", index, data)
		}
		if up && typ != unix.RTM_NEWLINK {
			t.Errorf("up from message type %d", typ)
		}
	})
}

func TestStateName(t *testing.T) {
	for flags, want := range map[uint32]string{
		unix.IFF_UP | unix.IFF_RUNNING: StateRunning,
		unix.IFF_UP:                    StateNoCarrier,
		unix.IFF_RUNNING:               StateDown,
		0:                              StateDown,
	} {
		if got := stateName(flags); got != want {
			t.Errorf("flags %#x: %s, want %s", flags, got, want)
		}
	}
}
