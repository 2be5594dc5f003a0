//go:build linux

package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ctq/engine"
	"ctq/internal/nstest"
	"ctq/sync/wire"
)

// TestDisableInternalCache runs a NOTRACK node without internal cache on a
// namespace's table: nothing is cached at start (the kernel table is
// advertised), each kernel event goes out
// as its message, `dump internal` shows the kernel table, and a RESYNC is
// answered with the kernel table as CT NEW.
func TestDisableInternalCache(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.Load(t, []string{"-I -t 600 -s 198.51.100.1 -d 198.51.100.2 -p udp --sport 1 --dport 2"})
	n, l := runningNodeConf(t, ns, `Sync {
	Mode NOTRACK { DisableInternalCache on }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`)
	ctx := context.Background()
	st, err := n.Stats(ctx)
	if err != nil || st.Internal.Active != 0 {
		t.Errorf("internal cache stats %+v, %v: want nothing cached", st.Internal, err)
	}
	if m := l.next(t, 1, func() string { return "" })[0]; m.Header.Type != wire.MsgCTNew || m.CT.Orig.Dst.String() != "198.51.100.2" {
		t.Errorf("start-up advertisement %v %v, want CT_NEW of the kernel's entry", m.Header.Type, m.CT.Orig.Dst)
	}
	ns.Run(t, "conntrack", "-I", "-t", "600", "-s", "198.51.100.1", "-d", "198.51.100.3", "-p", "udp", "--sport", "1", "--dport", "2")
	ns.Run(t, "conntrack", "-U", "-s", "198.51.100.1", "-d", "198.51.100.3", "-m", "4")
	ns.Run(t, "conntrack", "-D", "-s", "198.51.100.1", "-d", "198.51.100.3")
	var got []string
	for _, m := range l.next(t, 3, func() string { return "" }) {
		var f engine.Flow
		m.CT.ToFlow(&f)
		got = append(got, fmt.Sprintf("%v %v mark=%d", m.Header.Type, f.Dst, f.Mark))
	}
	want := []string{"CT_NEW 198.51.100.3 mark=0", "CT_UPD 198.51.100.3 mark=4", "CT_DEL 198.51.100.3 mark=4"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %v, want %v", got, want)
	}
	internal, err := n.Internal(ctx)
	if err != nil || len(internal) != 1 || internal[0].Key.Dst.String() != "198.51.100.2" {
		t.Errorf("dump internal: %v, %v: want the kernel's one entry", internal, err)
	}
	if err := n.do(ctx, func() {
		n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 1},
			Control: &wire.Control{}}))
	}); err != nil {
		t.Fatal(err)
	}
	m := l.next(t, 1, func() string { return "" })[0]
	if m.Header.Type != wire.MsgCTNew || m.CT.Orig.Dst.String() != "198.51.100.2" {
		t.Errorf("resync answered with %v %v, want CT_NEW of the kernel's entry", m.Header.Type, m.CT.Orig.Dst)
	}
}

// TestDisableInternalCacheExpect: without internal cache, an expectation
// event goes out as its EXP message, `dump internal expect` shows the
// kernel's expect table, and a RESYNC sends it.
func TestDisableInternalCacheExpect(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	n, l := runningNodeConf(t, ns, `Sync {
	Mode NOTRACK { DisableInternalCache on }
	UDP { IPv4_address 203.0.113.1 IPv4_Destination_Address 203.0.113.2 Port 3780 }
	Options { ExpectationSync on }
}`)
	ctx := context.Background()
	ftp := ns.FTPExpectation(t, true)
	nextExp := func() *wire.Message {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case d := <-l.sent:
				var got *wire.Message
				wire.Decode(d, func(m *wire.Message, err error) error {
					if err == nil && m.Exp != nil && got == nil {
						got = m
					}
					return nil
				})
				if got != nil {
					return got
				}
			case <-timeout:
				t.Fatal("no expectation message sent")
			}
		}
	}
	// The helper may replace its expectation (DEL, NEW) while the session
	// settles: the first message is the NEW.
	if m := nextExp(); m.Header.Type != wire.MsgExpNew || int(m.Exp.Expected.Dport) != ftp.DataPort {
		t.Errorf("event sent as %v to port %d, want EXP_NEW to %d", m.Header.Type, m.Exp.Expected.Dport, ftp.DataPort)
	}
	exps, err := n.InternalExpect(ctx)
	if err != nil || len(exps) != 1 || exps[0].Expect.Dport != ftp.DataPort {
		t.Errorf("dump internal expect: %+v, %v: want the kernel's expectation", exps, err)
	}
	if st, err := n.Stats(ctx); err != nil || st.InternalExpect.Active != 0 {
		t.Errorf("internal expectation cache stats %+v, %v: want nothing cached", st.InternalExpect, err)
	}
	// quietExps reads what is sent until a quiet spell and counts the
	// expectation messages.
	quietExps := func() int {
		count := 0
		for {
			select {
			case d := <-l.sent:
				wire.Decode(d, func(m *wire.Message, err error) error {
					if err == nil && m.Exp != nil {
						count++
					}
					return nil
				})
			case <-time.After(300 * time.Millisecond):
				return count
			}
		}
	}
	// Then what the session's events left to send goes out; the resync
	// comes after a quiet spell.
	quietExps()
	if err := n.do(ctx, func() {
		n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 1},
			Control: &wire.Control{}}))
	}); err != nil {
		t.Fatal(err)
	}
	if m := nextExp(); m.Header.Type != wire.MsgExpNew {
		t.Errorf("resync sent %v, want EXP_NEW", m.Header.Type)
	}
	quietExps()
	// A re-read of both tables (after a commit, or a poll) sends the one
	// expectation once.
	if err := n.do(ctx, func() {
		if err := n.dump(ctx, true, false); err != nil {
			t.Error(err)
		}
		if err := n.dumpExpect(ctx, true, false); err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if got := quietExps(); got != 1 {
		t.Errorf("a re-read of the tables sent %d expectation messages, want 1", got)
	}
}
