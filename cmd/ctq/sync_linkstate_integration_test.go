//go:build linux

package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"ctq/internal/nstest"
)

// TestSyncLinkDown takes a node's only dedicated link down and reads
// conntrackd's -s link page from it, with conntrackd's client, as
// conntrackd shows its own: NO-CARRIER when the peer end of the veth goes
// down, DOWN when the link's own end does; and the node logs conntrackd's
// "no dedicated links available!" (it showed RUNNING and logged nothing).
func TestSyncLinkDown(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	bin := buildCtq(t)
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")
	dir := t.TempDir()
	_, confB := writeSyncConfs(t, dir, syncTestConf, syncTestConf, "192.0.2.1", "192.0.2.2")
	d := startSyncDaemon(t, bin, b, confB)
	linkPage := func() string {
		out, err := exec.Command("ip", "netns", "exec", b.Name(), "conntrackd", "-C", confB, "-s", "link").CombinedOutput()
		if err != nil {
			return ""
		}
		return string(out)
	}
	waitPage := func(status string) {
		t.Helper()
		want := "UDP traffic device=ctqb status=" + status + " role=ACTIVE:\n"
		nstest.WaitFor(t, "conntrackd -s link: "+want, func() bool { return strings.HasPrefix(linkPage(), want) })
	}
	waitPage("RUNNING")
	a.Run(t, "ip", "link", "set", "ctqa", "down") // ctqb loses its carrier
	waitPage("NO-CARRIER")
	if out, _, _ := ctq(t, "-e", `sync status "`+confB+`"`); !strings.Contains(out, "ACTIVE ctqb (UDP, line 6) down (no carrier):") {
		t.Errorf("sync status does not show the link without carrier:\n%s", out)
	}
	b.Run(t, "ip", "link", "set", "ctqb", "down")
	waitPage("DOWN")
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done
	if out := d.out.String(); !strings.Contains(out, "no dedicated links available!") {
		t.Errorf("the node did not log conntrackd's \"no dedicated links available!\":\n%s", out)
	}
}
