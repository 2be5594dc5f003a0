//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"ctq/engine"
	"ctq/internal/nstest"
)

// TestLiveGetEach looks up every entry of a table, and as many that are
// not there, in one GetEach (several chunks), and compares with Get.
func TestLiveGetEach(t *testing.T) {
	ns := nstest.New(t)
	lines := mixedTable
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("-I -t 600 -s 198.18.7.%d -d 203.0.113.9 -p tcp --sport %d --dport 22 --state ESTABLISHED", i%250, 1024+i))
	}
	ns.Load(t, lines)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	flows, _ := scanAll(t, l, engine.TableConntrack, nil)
	var keys []engine.Flow
	for _, f := range flows {
		key := engine.Flow{Family: f.Family, ProtoNum: f.ProtoNum, Src: f.Src, Dst: f.Dst, Sport: f.Sport,
			Dport: f.Dport, ICMPType: f.ICMPType, ICMPCode: f.ICMPCode, ICMPID: f.ICMPID,
			Zone: f.Zone, OrigZone: f.OrigZone}
		missing := key
		missing.Zone, missing.OrigZone = f.Zone+f.OrigZone+1, 0
		keys = append(keys, key, missing)
	}
	next := 0
	err := l.GetEach(context.Background(), keys, func(i int, got *engine.Flow, err error) error {
		if i != next {
			t.Fatalf("answer %d where %d was due", i, next)
		}
		next++
		f := flows[i/2]
		if i%2 == 1 {
			if !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("GetEach(%s %v→%v in another zone) = %v, want ErrNotFound", f.Proto, f.Src, f.Dst, err)
			}
			return nil
		}
		if err != nil || got.ID != f.ID || got.ReplySrc != f.ReplySrc {
			t.Errorf("GetEach(%s %v→%v) = %+v, %v; want id %d", f.Proto, f.Src, f.Dst, got, err, f.ID)
		}
		return nil
	})
	if err != nil || next != len(keys) {
		t.Fatalf("GetEach: %v after %d of %d answers", err, next, len(keys))
	}
	stop := errors.New("stop")
	if err := l.GetEach(context.Background(), keys, func(i int, _ *engine.Flow, _ error) error {
		if i == 3 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) {
		t.Errorf("GetEach whose fn fails = %v", err)
	}
	if err := l.GetEach(context.Background(), []engine.Flow{{}}, func(int, *engine.Flow, error) error { return nil }); err == nil {
		t.Error("GetEach(empty key) succeeded")
	}
}
