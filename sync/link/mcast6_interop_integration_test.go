//go:build linux

package link

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"ctq/internal/nstest"
	"ctq/sync/config"
)

// mcast6Conf is conntrackd's configuration for the IPv6 multicast interop
// test: %[1]s is the scratch directory. IPv6_address comes before
// Interface: conntrackd 1.4.7 takes the interface's index for the join
// and the send only in that order (with Interface first, it looks the
// group address up as an interface name, warns "ff12::db8:3780 is an
// invalid interface", and joins on and sends out of the interface the
// kernel picks). It binds its receive socket to [::]:Group.
const mcast6Conf = `Sync {
	Mode NOTRACK {
	}
	Multicast Default {
		IPv6_address ff12::db8:3780
		Interface m6ib
		Group 3780
		Checksum on
	}
}
General {
	HashSize 8192
	HashLimit 65536
	LogFile %[1]s/b.log
	Syslog off
	LockFile %[1]s/b.lock
	UNIX {
		Path %[1]s/b.sock
	}
}
`

// TestMulticast6InteropConntrackd exchanges flows with conntrackd over
// IPv6 multicast on a veth pair.
func TestMulticast6InteropConntrackd(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	a, b := joined6(t, "m6ia", "2001:db8::1/64", "m6ib", "2001:db8::2/64")
	c := config.Link{Transport: config.TransportMulticast, Address: group6, Port: 3780,
		Interface: "m6ia", Checksum: true}
	var l *UDP
	if err := a.Do(func() (err error) { l, err = OpenMulticast(&c); return err }); err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	dir := t.TempDir()
	conf := filepath.Join(dir, "b.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, mcast6Conf, dir), 0o600); err != nil {
		t.Fatal(err)
	}
	b.StartConntrackd(t, conf, filepath.Join(dir, "b.sock"), filepath.Join(dir, "b.log"))
	interop(t, l, b, conf)
}
