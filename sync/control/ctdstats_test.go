package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/sync/config"
	"ctq/sync/link"
	"ctq/sync/node"
)

// TestConntrackdStatsPages renders the counters of the captured conntrackd
// daemon and compares with its pages byte for byte.
func TestConntrackdStatsPages(t *testing.T) {
	started := time.Unix(1795459700, 0)
	st := node.Stats{
		Started:          started,
		EventsReceived:   1,
		WatchBuffer:      212992,
		ResendQueue:      1,
		ResendQueueLimit: 131072,
		ErrorQueueLimit:  128,
		ResendItems:      []node.ResendItem{{Seq: 1795459736}},
	}
	st.Internal.Active, st.Internal.Objects, st.Internal.AddOK = 1, 1, 1
	st.Links = []link.LinkStatus{{Name: "ctqd0", Transport: config.TransportUDP, Interface: "ctqd0", Up: true, Active: true,
		Stats: link.Stats{SentBytes: 156, SentDatagrams: 11}}}
	exp := node.Stats{Started: started}
	exp.Links = []link.LinkStatus{{Name: "ctqd0", Transport: config.TransportUDP, Interface: "ctqd0", Up: true, Active: true,
		Stats: link.Stats{SentBytes: 8, SentDatagrams: 1}}}
	for _, tt := range []struct {
		file string
		code uint32
		st   *node.Stats
	}{
		{"s-general", CodeStats, &st},
		{"s-network", CodeStatsNetwork, &st},
		{"s-cache", CodeStatsCache, &st},
		{"s-link", CodeStatsLink, &st},
		{"s-queue", CodeStatsQueue, &st},
		{"s-runtime", CodeStatsRuntime, &st},
		{"s-rsqueue", CodeStatsRsqueue, &st},
		{"x-expect", CodeExpStats, &exp},
	} {
		want, err := os.ReadFile(filepath.Join("testdata", "conntrackd-1.4.7", tt.file+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		page, ok := ctdPages[tt.code]
		if !ok {
			t.Fatalf("no page for code %d", tt.code)
		}
		if got := page(tt.st, started.Add(30*time.Second)); got != string(want) {
			t.Errorf("%s (code %d):\n got %q\nwant %q", tt.file, tt.code, got, want)
		}
	}
}

// TestConntrackdLinkStates: `-s link` names a link's interface state as
// conntrackd does: NO-CARRIER for an interface up without carrier, DOWN
// for one admin down (a link without carrier was shown DOWN).
func TestConntrackdLinkStates(t *testing.T) {
	st := node.Stats{Links: []link.LinkStatus{
		{Transport: config.TransportUDP, Interface: "eth1", State: link.StateNoCarrier, Active: true},
		{Transport: config.TransportUDP, Interface: "eth2", State: link.StateDown},
		{Transport: config.TransportUDP, Interface: "eth3", Up: true, State: link.StateRunning},
		{Transport: config.TransportUDP, Up: true},
	}}
	page := ctdLinkPage(&st)
	for _, want := range []string{
		"UDP traffic device=eth1 status=NO-CARRIER role=ACTIVE:\n",
		"UDP traffic device=eth2 status=DOWN role=BACKUP:\n",
		"UDP traffic device=eth3 status=RUNNING role=BACKUP:\n",
		"UDP traffic device= status=RUNNING role=BACKUP:\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}

// TestConntrackdTCPConnections: the active TCP link's line of the -s page
// says, as conntrackd's tcp_snprintf_stats, whether its server and client
// connections are up.
func TestConntrackdTCPConnections(t *testing.T) {
	st := node.Stats{Links: []link.LinkStatus{{Name: "veth2", Transport: config.TransportTCP, Interface: "veth2", Up: true, Active: true,
		ServerConnected: true}}}
	want := "TCP traffic (active device=veth2) server=connected client=disconnected:\n" +
		"                   0 Bytes sent                    0 Bytes recv\n"
	if got := ctdGeneral(&st, false); !strings.Contains(got, want) {
		t.Errorf("-s page lacks %q:\n%s", want, got)
	}
}
