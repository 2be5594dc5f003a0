//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

func TestKernelError(t *testing.T) {
	err := kernelError("dump conntrack", &netlink.OpError{Op: "receive", Err: unix.EPERM})
	if !errors.Is(err, engine.ErrPermission) || !strings.HasPrefix(err.Error(), "dump conntrack: ") {
		t.Errorf("EPERM: got %v, want ErrPermission with context", err)
	}
	other := &netlink.OpError{Op: "receive", Err: unix.ENOBUFS}
	err = kernelError("dump conntrack", other)
	if errors.Is(err, engine.ErrPermission) || !errors.Is(err, unix.ENOBUFS) || err.Error() != "dump conntrack: "+other.Error() {
		t.Errorf("ENOBUFS: got %v", err)
	}
}

func TestOpenLiveErrors(t *testing.T) {
	tests := []struct {
		cfg  LiveConfig
		want string
	}{
		{LiveConfig{NetNS: "a", NetNSPath: "/proc/1/ns/net"}, "not both"},
		{LiveConfig{NetNS: "../x"}, `invalid network namespace name "../x"`},
		{LiveConfig{NetNS: ".."}, "invalid network namespace name"},
		{LiveConfig{NetNS: "ctq-no-such-namespace"}, `network namespace "ctq-no-such-namespace" does not exist`},
		{LiveConfig{NetNSPath: "/nonexistent/ns"}, "network namespace /nonexistent/ns does not exist"},
	}
	for _, tt := range tests {
		l, err := OpenLive(&tt.cfg)
		if err == nil {
			l.Close()
			t.Errorf("OpenLive(%+v) succeeded", tt.cfg)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenLive(%+v) = %v, want it to contain %q", tt.cfg, err, tt.want)
		}
	}
}

func TestScanExpectNotYet(t *testing.T) {
	if _, err := dumpMsgType(engine.TableExpect); !errors.Is(err, errExpectLater) {
		t.Errorf("dumpMsgType(expect) = %v", err)
	}
	if _, err := dumpMsgType(engine.Table(9)); err == nil {
		t.Error("dumpMsgType(9) succeeded")
	}
	l := &Live{}
	if _, err := l.Scan(context.Background(), engine.TableExpect, nil, nil); !errors.Is(err, errExpectLater) ||
		!strings.HasPrefix(err.Error(), "dump expect: ") {
		t.Errorf("Scan(expect) = %v", err)
	}
}
