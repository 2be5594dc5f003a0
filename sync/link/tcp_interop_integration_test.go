//go:build linux

package link

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/engine"
	"ctq/internal/nstest"
	"ctq/sync/config"
	"ctq/sync/wire"
)

// tcpConf is conntrackd's configuration for the TCP interop test: %[1]s
// is the scratch directory.
const tcpConf = `Sync {
	Mode NOTRACK {
	}
	TCP Default {
		IPv4_address 192.0.2.2
		IPv4_Destination_Address 192.0.2.1
		Port 3780
		Interface ctqb
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

// TestTCPInteropConntrackd exchanges messages with conntrackd over its
// TCP transport: a CT NEW sent by ctq reaches conntrackd's external cache,
// and a flow added to conntrackd's kernel table reaches ctq as whole
// messages.
func TestTCPInteropConntrackd(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")

	c := config.Link{Transport: config.TransportTCP, Address: netip.MustParseAddr("192.0.2.1"),
		Destination: netip.MustParseAddr("192.0.2.2"), Port: 3780, Interface: "ctqa"}
	var l *TCP
	if err := a.Do(func() (err error) {
		l, err = openTCP(&c, 16, 50*time.Millisecond, 200*time.Millisecond)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	dir := t.TempDir()
	conf := filepath.Join(dir, "b.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, tcpConf, dir), 0o600); err != nil {
		t.Fatal(err)
	}
	b.StartConntrackd(t, conf, filepath.Join(dir, "b.sock"), filepath.Join(dir, "b.log"))

	interop(t, l, b, conf)
}

// interop exchanges flows with the conntrackd of namespace b running conf
// over l: a CT NEW sent by ctq reaches conntrackd's external cache, and a
// flow added to conntrackd's kernel table reaches ctq as whole messages
// that decode; conntrackd counts no malformed message.
func interop(t *testing.T, l Link, b *nstest.NS, conf string) {
	t.Helper()
	// ctq to conntrackd: a CT NEW, sent until it shows in the external
	// cache (the first may go out before conntrackd's server listens).
	var f engine.Flow
	f.Family = "ipv4"
	f.SetProto(engine.ProtoTCP)
	f.Src, f.Dst = netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("198.51.100.20")
	f.Sport, f.Dport = 40000, 22
	f.SetState(3)
	f.SetStatus(engine.StatusConfirmed | engine.StatusAssured | engine.StatusSeenReply)
	f.Timeout, f.Mark = 600, 7
	f.Has |= engine.HasTimeout | engine.HasMark
	var ct wire.Conntrack
	ct.FromFlow(&f)
	seq := uint32(time.Now().Unix())
	nstest.WaitFor(t, "ctq's flow in conntrackd's external cache", func() bool {
		msg, err := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgCTNew, Seq: seq}, CT: &ct})
		if err != nil {
			t.Fatal(err)
		}
		seq++
		l.Send(msg)
		ext := b.Run(t, "conntrackd", "-C", conf, "-e")
		return strings.Contains(ext, "src=198.51.100.10 dst=198.51.100.20 sport=40000") && strings.Contains(ext, "mark=7")
	})

	// conntrackd to ctq: a flow of B's kernel arrives as a CT NEW.
	b.Load(t, []string{"-I -t 120 -p udp -s 203.0.113.10 -d 203.0.113.30 --sport 5000 --dport 53 -m 9"})
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, maxMessage)
		for {
			n, err := l.Recv(buf)
			if err != nil {
				got <- err
				return
			}
			found := false
			if err := wire.Decode(buf[:n], func(m *wire.Message, err error) error {
				if err != nil {
					return err
				}
				if m.CT != nil {
					var g engine.Flow
					m.CT.ToFlow(&g)
					found = found || (g.Src == netip.MustParseAddr("203.0.113.10") && g.Sport == 5000 && g.Mark == 9)
				}
				return nil
			}); err != nil {
				got <- fmt.Errorf("conntrackd sent a bad message: %w", err)
				return
			}
			if found {
				got <- nil
				return
			}
		}
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gave up waiting for conntrackd's flow")
	}
	network := b.Run(t, "conntrackd", "-C", conf, "-s", "network")
	for _, line := range strings.Split(network, "\n") {
		name, val, ok := strings.Cut(line, ":")
		if ok && strings.HasPrefix(strings.TrimSpace(name), "Malformed") && strings.TrimSpace(val) != "0" {
			t.Errorf("conntrackd -s network: %s", line)
		}
	}
}
