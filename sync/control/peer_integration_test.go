//go:build linux

package control

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"ctq/internal/nstest"
)

// The helper process's environment: the socket to ask, and how.
const (
	envPeerSock = "CTQ_TEST_PEER_SOCK"
	envPeerMode = "CTQ_TEST_PEER_MODE"
)

// TestPeerClientHelper is not a test: run by TestControlSocketCredentials
// as another user, it sends one request to the socket of envPeerSock
// (ctq's "flush kernel", or conntrackd's -F code) and prints the reply.
func TestPeerClientHelper(t *testing.T) {
	path := os.Getenv(envPeerSock)
	if path == "" {
		t.Skip("helper process of TestControlSocketCredentials")
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		os.Stdout.WriteString("dial: " + err.Error() + "\n")
		os.Exit(3)
	}
	if os.Getenv(envPeerMode) == "conntrackd" {
		c.Write(binary.NativeEndian.AppendUint32(nil, CodeAllFlushMaster))
	} else {
		io.WriteString(c, "flush kernel\n")
	}
	b, _ := io.ReadAll(c)
	os.Stdout.Write(b)
	os.Exit(0)
}

// TestControlSocketCredentials: the control socket is 0600 whatever the
// umask, and a client of another user than root and the node's is
// refused, even where the file lets it connect, in either protocol,
// without the node being asked anything; the refusals are counted.
func TestControlSocketCredentials(t *testing.T) {
	nstest.RequireCommand(t, "setpriv")
	old := syscall.Umask(0)
	fake := &fakeNode{}
	path, ctx, _ := serveFake(t, fake, nil)
	syscall.Umask(old)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("control socket made under umask 0: mode %v, want 0600", perm)
	}
	// Root is answered.
	if _, err := Do(ctx, path, Request{Verb: VerbStatus}); err != nil {
		t.Fatalf("root's request: %v", err)
	}

	// A directory and a socket file nobody (65534) can reach: what the
	// file lets through, the credentials check stops.
	dir, err := os.MkdirTemp("", "ctq-peer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "c.sock")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	// The socket's own directory (the test's temporary one) too.
	for d := filepath.Dir(path); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "control.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"ctq", "conntrackd"} {
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			bin, "-test.run=^TestPeerClientHelper$")
		cmd.Env = append(os.Environ(), envPeerSock+"="+link, envPeerMode+"="+mode)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s client as uid 65534: %v: %s", mode, err, out)
		}
		want := "ERR permission denied: uid 65534 may not use the control socket of this sync node (root and uid 0 only)\n"
		if mode == "conntrackd" {
			want = "ERROR: permission denied: uid 65534 may not use the control socket of this sync node (root and uid 0 only)\n"
		}
		if string(out) != want {
			t.Errorf("%s client as uid 65534: %q, want %q", mode, out, want)
		}
	}
	fake.locked(func() {
		if len(fake.tables) != 0 {
			t.Errorf("the node was asked %q by a refused client", fake.tables)
		}
	})
	body, err := Do(ctx, path, Request{Verb: VerbStatus})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(body, func(l string) bool {
		return strings.HasPrefix(l, "  connections refused:") && strings.Contains(l, " 2 ")
	}) {
		t.Errorf("status does not count the 2 refusals:\n%s", strings.Join(body, "\n"))
	}
	ms, err := FetchMetrics(context.Background(), path)
	if err != nil || !slices.ContainsFunc(ms, func(m Metric) bool { return m.String() == "ctq_sync_control_refused_total 2" }) {
		t.Errorf("metrics: %v, %v", ms, err)
	}
}
