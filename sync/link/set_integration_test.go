//go:build linux

package link

import (
	"bytes"
	"testing"

	"ctq/internal/nstest"
)

// TestSetJunkOnBackup: one junk byte sent to the backup link's port does
// not make it the active link (nor, as A would then send there, B's); a
// valid message there does.
func TestSetJunkOnBackup(t *testing.T) {
	a, b, ca, cb := authPair(t)
	for i := range ca {
		ca[i].AuthKey, cb[i].AuthKey, ca[i].AuthKeyLine, cb[i].AuthKeyLine = nil, nil, 0, 0
	}
	la, lb := openIn(t, a, ca), openIn(t, b, cb)
	defer la.Close()
	defer lb.Close()
	sa := la.(*Set)
	inA, inB := receiver(la), receiver(lb)
	sendUntil(t, la, inB, alive(t, 1))
	sendRaw(t, b, "198.51.100.1:3780", []byte{0})
	nstest.WaitFor(t, "the junk byte read", func() bool { return sa.Links()[1].Stats.RecvDatagrams == 1 })
	if got := <-inA; !bytes.Equal(got, []byte{0}) {
		t.Fatalf("A received %q", got)
	}
	if activeOf(sa) != 0 {
		t.Fatalf("A: link %d active after a junk byte on link 1", activeOf(sa))
	}
	sendRaw(t, b, "198.51.100.1:3780", alive(t, 2))
	nstest.WaitFor(t, "A on link 1 after a valid message there", func() bool { return activeOf(sa) == 1 })
}
