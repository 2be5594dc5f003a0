// Package fwtest builds a stateful firewall pair in test namespaces, as
// users run one with conntrackd: a client on a LAN, two firewalls (fw1,
// fw2) forwarding to a server on a WAN with an nftables ruleset that
// accepts only established and related traffic (and new connections from
// the LAN), nf_conntrack_tcp_loose=0, optional SNAT on the WAN side, and a
// dedicated sync link between the firewalls whose datagrams may be lost
// on purpose. The gateway moves from one firewall to the other by
// changing the client's and the server's routes. It is for integration
// tests (root): every namespace comes from nstest, so all of it is
// removed when the test ends, also on failure; no sysctl outside the test
// namespaces is touched.
package fwtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// The addresses of the pair, all from documentation and benchmarking
// ranges.
const (
	// ClientAddr is the client's address on the LAN (192.0.2.0/24).
	ClientAddr = "192.0.2.10"
	// ServerAddr is the server's address on the WAN (203.0.113.0/24).
	ServerAddr = "203.0.113.10"
	// SNATAddr is the address the firewalls translate the client's
	// connections to with SNAT (the pair's shared WAN address).
	SNATAddr = "198.51.100.1"
	// SyncPort is the sync link's UDP port.
	SyncPort = 3780
)

// Firewall is one firewall of the pair.
type Firewall struct {
	*nstest.NS
	// Index is 1 or 2.
	Index int
	// LAN, WAN and Sync are its addresses on each network.
	LAN, WAN, Sync string
	// PeerSync is the other firewall's sync address.
	PeerSync string
}

// Options shape a Pair.
type Options struct {
	// SNAT translates the client's connections to SNATAddr on the WAN.
	SNAT bool
}

// Pair is the firewall pair and its two end hosts.
type Pair struct {
	Client, Server *nstest.NS
	FW             [2]*Firewall
	opts           Options
	// active is the index (0 or 1) of the firewall the routes use.
	active int
}

// New builds the pair with fw1 as the gateway. The sync link is
// 198.18.0.1 (fw1) to 198.18.0.2 (fw2) on interfaces named "sync"; the
// firewalls' LAN and WAN interfaces are "lan" and "wan", the client's and
// server's interfaces towards them "fw1" and "fw2".
func New(t testing.TB, opts Options) *Pair {
	t.Helper()
	p := &Pair{Client: nstest.New(t), Server: nstest.New(t), opts: opts}
	for i := range p.FW {
		n := i + 1
		p.FW[i] = &Firewall{
			NS:       nstest.New(t),
			Index:    n,
			LAN:      fmt.Sprintf("192.0.2.%d", n),
			WAN:      fmt.Sprintf("203.0.113.%d", n),
			Sync:     fmt.Sprintf("198.18.0.%d", n),
			PeerSync: fmt.Sprintf("198.18.0.%d", 3-n),
		}
	}
	for _, fw := range p.FW {
		name := fmt.Sprintf("fw%d", fw.Index)
		veth(t, p.Client, name, fw.NS, "lan")
		veth(t, p.Server, name, fw.NS, "wan")
		fw.Run(t, "ip", "addr", "add", fw.LAN+"/24", "dev", "lan")
		fw.Run(t, "ip", "addr", "add", fw.WAN+"/24", "dev", "wan")
		p.Client.Run(t, "ip", "addr", "add", ClientAddr+"/32", "dev", name)
		p.Client.Run(t, "ip", "route", "add", fw.LAN+"/32", "dev", name)
		p.Server.Run(t, "ip", "addr", "add", ServerAddr+"/32", "dev", name)
		p.Server.Run(t, "ip", "route", "add", fw.WAN+"/32", "dev", name)
		fw.Run(t, "sysctl", "-q", "-w",
			"net.ipv4.ip_forward=1",
			"net.netfilter.nf_conntrack_tcp_loose=0",
			"net.ipv4.conf.all.rp_filter=0")
		nft(t, fw.NS, ruleset(opts.SNAT))
	}
	veth(t, p.FW[0].NS, "sync", p.FW[1].NS, "sync")
	for _, fw := range p.FW {
		fw.Run(t, "ip", "addr", "add", fw.Sync+"/24", "dev", "sync")
	}
	for _, ns := range []*nstest.NS{p.Client, p.Server, p.FW[0].NS, p.FW[1].NS} {
		waitUp(t, ns)
	}
	p.route(t, 0)
	return p
}

// veth joins namespace a (interface ifA) and b (ifB) and sets both up.
func veth(t testing.TB, a *nstest.NS, ifA string, b *nstest.NS, ifB string) {
	t.Helper()
	a.Run(t, "ip", "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b.Name())
	a.Run(t, "ip", "link", "set", ifA, "up")
	b.Run(t, "ip", "link", "set", ifB, "up")
}

// waitUp waits until every veth of ns is up.
func waitUp(t testing.TB, ns *nstest.NS) {
	t.Helper()
	nstest.WaitFor(t, "the links of "+ns.Name()+" up", func() bool {
		for _, l := range strings.Split(strings.TrimSpace(ns.Run(t, "ip", "-o", "link", "show", "type", "veth")), "\n") {
			if l != "" && !strings.Contains(l, "state UP") {
				return false
			}
		}
		return true
	})
}

// nft loads an nftables script into ns.
func nft(t testing.TB, ns *nstest.NS, script string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "rules.nft")
	if err := os.WriteFile(f, []byte(script), 0o600); err != nil {
		t.Fatalf("fwtest: %v", err)
	}
	ns.Run(t, "nft", "-f", f)
}

// ruleset is a firewall's nftables ruleset: forwarded traffic is accepted
// when conntrack knows it (established, related) or when it starts a
// connection from the LAN, dropped otherwise; with snat, what leaves on the
// WAN is translated to SNATAddr.
func ruleset(snat bool) string {
	rs := `table inet ctqfw {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "lan" oifname "wan" ct state new accept
	}
}
`
	if snat {
		rs += `table ip ctqnat {
	chain postrouting {
		type nat hook postrouting priority 100;
		oifname "wan" snat to ` + SNATAddr + `
	}
}
`
	}
	return rs
}

// Active is the firewall the routes use now.
func (p *Pair) Active() *Firewall {
	return p.FW[p.active]
}

// MoveGateway points the client's and the server's routes at the other
// firewall and returns it.
func (p *Pair) MoveGateway(t testing.TB) *Firewall {
	t.Helper()
	p.route(t, 1-p.active)
	return p.Active()
}

// route points the client's and the server's routes at firewall i.
func (p *Pair) route(t testing.TB, i int) {
	t.Helper()
	fw := p.FW[i]
	dev := fmt.Sprintf("fw%d", fw.Index)
	p.Client.Run(t, "ip", "route", "replace", "203.0.113.0/24", "via", fw.LAN, "dev", dev, "src", ClientAddr)
	p.Server.Run(t, "ip", "route", "replace", "192.0.2.0/24", "via", fw.WAN, "dev", dev, "src", ServerAddr)
	p.Server.Run(t, "ip", "route", "replace", SNATAddr+"/32", "via", fw.WAN, "dev", dev, "src", ServerAddr)
	p.active = i
}

// SetSyncLoss makes each firewall drop percent of the sync datagrams it
// sends (so each way of the link loses that share), with nftables'
// random numbers (sch_netem is not needed); 0 removes the loss.
func (p *Pair) SetSyncLoss(t testing.TB, percent int) {
	t.Helper()
	for _, fw := range p.FW {
		nft(t, fw.NS, `table inet ctqloss {
	chain output {
		type filter hook output priority 0;
	}
}
flush chain inet ctqloss output
`)
		if percent > 0 {
			fw.Run(t, "nft", "add", "rule", "inet", "ctqloss", "output",
				"oifname", "sync", "udp", "dport", fmt.Sprint(SyncPort),
				"numgen", "random", "mod", "100", "lt", fmt.Sprint(percent), "counter", "drop")
		}
	}
}
