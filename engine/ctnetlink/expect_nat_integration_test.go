//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"

	"ctq/engine"
)

// natFTPExpectation makes the kernel's ftp NAT helper attach a NAT part to
// an expectation: the namespace source-NATs its FTP control connections to
// 192.0.2.2, and one passive-mode session runs (its 227 answer is left
// as it is, the address being the master's original destination; an
// active-mode PORT would be rewritten). It returns the session.
func natFTPExpectation(t *testing.T, ns *nstest.NS) nstest.FTP {
	t.Helper()
	ns.Run(t, "ip", "addr", "add", "192.0.2.2/32", "dev", "lo")
	ns.Run(t, "nft", "add", "table", "ip", "ctqt_nat")
	ns.Run(t, "nft", "add", "chain", "ip", "ctqt_nat", "post", "{ type nat hook postrouting priority 100 ; }")
	ns.Run(t, "nft", "add", "rule", "ip", "ctqt_nat", "post", "tcp", "dport", "21", "snat", "to", "192.0.2.2")
	return ns.FTPExpectation(t, true)
}

// TestExpectNATLive reads the NAT part of a kernel-made expectation,
// deletes it and creates it again with an Injector, and checks that the
// kernel reports the same NAT part, expectfn and expected tuple (the
// kernel's own dump is the oracle: conntrack -L expect does not print the
// NAT part) and that the events carry the injector's port ID.
func TestExpectNATLive(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	// The kernel reports the events of an expectation only when a
	// listener existed as its master was created: watch first.
	w, _ := startWatch(t, l, engine.WatchConfig{Table: engine.TableExpect}, watchReadBuffer, nil)
	ftp := natFTPExpectation(t, ns)
	ctx := context.Background()
	find := func() (engine.Expect, bool) {
		t.Helper()
		var found engine.Expect
		ok := false
		if _, err := l.ScanExpect(ctx, func(e *engine.Expect) error {
			if e.MasterSport == int(ftp.Client.Port()) {
				found, ok = *e, true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return found, ok
	}
	e, ok := find()
	if !ok {
		t.Fatalf("no expectation of the session %v", ftp.Client)
	}
	any4 := netip.MustParseAddr("0.0.0.0")
	if e.Has&engine.HasExpNAT == 0 || e.NATDir != 0 || e.NATProtoNum != engine.ProtoTCP || e.NATSrc != any4 ||
		e.NATDst != any4 || e.NATSport != ftp.DataPort || e.NATDport != 0 || e.Fn != "nat-follow-master" ||
		e.Dst != netip.MustParseAddr(nstest.FTPAddr) || e.Dport != ftp.DataPort {
		t.Fatalf("kernel's NAT expectation: %+v", e)
	}

	in, err := l.OpenInjector()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := in.DeleteExpect(ctx, &e); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := in.DeleteExpect(ctx, &e); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	c := e
	c.Has &^= engine.HasExpID
	if err := in.CreateExpect(ctx, &c); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := in.CreateExpect(ctx, &c); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second create: %v, want EEXIST", err)
	}
	got, ok := find()
	if !ok {
		t.Fatal("the created expectation is missing")
	}
	if got.Has&engine.HasExpNAT == 0 || got.NATDir != e.NATDir || got.NATProtoNum != e.NATProtoNum ||
		got.NATSrc != e.NATSrc || got.NATDst != e.NATDst || got.NATSport != e.NATSport ||
		got.NATDport != e.NATDport || got.Fn != e.Fn || got.Src != e.Src || got.Dst != e.Dst ||
		got.Dport != e.Dport || got.Helper != e.Helper {
		t.Errorf("created\n%+v\nwant as the kernel's\n%+v", got, e)
	}
	missing := c
	missing.MasterSport, missing.Dport = missing.MasterSport+1, missing.Dport+1
	if err := in.CreateExpect(ctx, &missing); !errors.Is(err, unix.ENOENT) {
		t.Errorf("create without master: %v, want ENOENT", err)
	}
	mine := func(evs []seenEvent) []engine.EventType {
		var types []engine.EventType
		for _, ev := range evs {
			if ev.PortID == in.PortID() {
				types = append(types, ev.Type)
			}
		}
		return types
	}
	w.waitFor(t, "the delete and create events", func(evs []seenEvent) bool { return len(mine(evs)) >= 2 })
	_, evs, _ := w.stop(t)
	if got := mine(evs); !slices.Equal(got, []engine.EventType{engine.EventDestroy, engine.EventNew}) {
		t.Errorf("the injector's events: %v, want DESTROY, NEW", got)
	}
	for _, ev := range evs {
		if ev.PortID != 0 && ev.PortID != in.PortID() {
			t.Errorf("%v event from port %d, want the helper's (0) or the injector's %d", ev.Type, ev.PortID, in.PortID())
		}
	}
}
