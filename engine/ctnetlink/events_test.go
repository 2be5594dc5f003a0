//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

// eventMsg builds a conntrack event message for a UDP entry with source
// port sport.
func eventMsg(msgType int, flags netlink.HeaderFlags, portid uint32, sport uint16) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(nfnlSubsysCTNetlink<<8 | msgType),
			Flags: flags,
			PID:   portid,
		},
		Data: ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putTuple(e, ctaTupleOrig, "192.0.2.1", "198.51.100.1", engine.ProtoUDP, putPorts(sport, 53), -1)
			putTuple(e, ctaTupleReply, "198.51.100.1", "192.0.2.1", engine.ProtoUDP, putPorts(53, sport), -1)
			e.u32(ctaTimeout, 30)
		}),
	}
}

func TestEventType(t *testing.T) {
	tests := []struct {
		msgType int
		flags   netlink.HeaderFlags
		want    engine.EventType
		ok      bool
	}{
		{ipctnlMsgCtNew, netlink.Create | netlink.Excl, engine.EventNew, true},
		{ipctnlMsgCtNew, netlink.Create, engine.EventNew, true},
		{ipctnlMsgCtNew, netlink.Excl, engine.EventUpdate, true},
		{ipctnlMsgCtNew, 0, engine.EventUpdate, true},
		{ipctnlMsgCtDelete, 0, engine.EventDestroy, true},
		{ipctnlMsgCtDelete, netlink.Create, engine.EventDestroy, true},
		{ipctnlMsgCtGet, 0, 0, false},
		{ipctnlMsgCtGetStats, netlink.Create, 0, false},
	}
	for _, tt := range tests {
		h := netlink.Header{Type: netlink.HeaderType(nfnlSubsysCTNetlink<<8 | tt.msgType), Flags: tt.flags}
		got, ok := eventType(h)
		if got != tt.want || ok != tt.ok {
			t.Errorf("eventType(type %d, flags %#x) = %v, %v; want %v, %v", tt.msgType, tt.flags, got, ok, tt.want, tt.ok)
		}
	}
}

func TestWatchGroups(t *testing.T) {
	tests := []struct {
		cfg     engine.WatchConfig
		want    []uint32
		wantErr bool
	}{
		{engine.WatchConfig{}, []uint32{1, 2, 3}, false},
		{engine.WatchConfig{Events: engine.EventNew}, []uint32{1}, false},
		{engine.WatchConfig{Events: engine.EventUpdate | engine.EventDestroy}, []uint32{2, 3}, false},
		{engine.WatchConfig{Events: engine.EventNew | engine.EventUpdate | engine.EventDestroy}, []uint32{1, 2, 3}, false},
		{engine.WatchConfig{Events: 1 << 5}, nil, true},
		{engine.WatchConfig{Table: engine.TableExpect}, []uint32{4, 5, 6}, false},
		{engine.WatchConfig{Table: engine.TableExpect, Events: engine.EventDestroy}, []uint32{6}, false},
		{engine.WatchConfig{Table: engine.TableDying}, nil, true},
		{engine.WatchConfig{Table: engine.TableUnconfirmed}, nil, true},
	}
	for _, tt := range tests {
		got, err := watchGroups(&tt.cfg)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("watchGroups(%+v) = %v, %v; want %v (error %v)", tt.cfg, got, err, tt.want, tt.wantErr)
		}
	}
}

// script is a fake socket: each call of recv returns the next step.
type script []struct {
	msgs []netlink.Message
	err  error
}

func (s *script) recv() ([]netlink.Message, error) {
	if len(*s) == 0 {
		return nil, errors.New("script exhausted")
	}
	step := (*s)[0]
	*s = (*s)[1:]
	return step.msgs, step.err
}

var (
	errENOBUFS = fmt.Errorf("receive: %w", unix.ENOBUFS)
	errBroken  = errors.New("socket broke")
)

// record is what a test stream saw, in order: "new:SPORT/PORTID",
// "update:SPORT/PORTID", "destroy:SPORT/PORTID", "lost:N" (a loss
// marker of N reports) or "resync".
type record []string

func runScript(t *testing.T, s script, resync func(context.Context) error) (record, engine.WatchStats, error) {
	t.Helper()
	q := newRxQueue(rxQueueLimit)
	quit := make(chan struct{})
	defer close(quit)
	go q.receive(s.recv, quit)
	var rec record
	cfg := &engine.WatchConfig{Lost: func(n int, at time.Time) error {
		if at.IsZero() {
			t.Error("loss without time")
		}
		rec = append(rec, fmt.Sprintf("lost:%d", n))
		return nil
	}}
	if resync != nil {
		cfg.Resync = func(ctx context.Context) error {
			rec = append(rec, "resync")
			return resync(ctx)
		}
	}
	es := eventStream{q: q, cfg: cfg, fail: func(err error) error { return fmt.Errorf("failed: %w", err) }}
	names := map[engine.EventType]string{engine.EventNew: "new", engine.EventUpdate: "update", engine.EventDestroy: "destroy"}
	st, err := es.run(context.Background(), func(ev *engine.Event) error {
		if ev.Flow == nil || ev.Expect != nil || ev.Time.IsZero() {
			t.Errorf("event without flow or time: %+v", ev)
		}
		rec = append(rec, fmt.Sprintf("%s:%d/%d", names[ev.Type], ev.Flow.Sport, ev.PortID))
		return nil
	})
	return rec, st, err
}

func TestEventStream(t *testing.T) {
	other := eventMsg(ipctnlMsgCtNew, netlink.Create, 0, 9)
	other.Header.Type = netlink.HeaderType(2<<8 | ipctnlMsgCtNew) // NFNL_SUBSYS_CTNETLINK_EXP
	broken := eventMsg(ipctnlMsgCtNew, 0, 0, 9)
	broken.Data = broken.Data[:7]
	get := eventMsg(ipctnlMsgCtGet, 0, 0, 9)
	tests := []struct {
		name    string
		script  script
		resync  func(context.Context) error
		want    record
		wantSt  engine.WatchStats
		wantErr error
	}{
		{
			name: "order and types",
			script: script{
				{msgs: []netlink.Message{eventMsg(ipctnlMsgCtNew, netlink.Create|netlink.Excl, 0, 1)}},
				{msgs: []netlink.Message{eventMsg(ipctnlMsgCtNew, 0, 7, 1), eventMsg(ipctnlMsgCtDelete, 0, 0, 1)}},
				{msgs: nil},
				{err: errBroken},
			},
			want:    record{"new:1/0", "update:1/7", "destroy:1/0"},
			wantSt:  engine.WatchStats{Received: 3},
			wantErr: errBroken,
		},
		{
			name: "overflows resync in place, consecutive ones once",
			script: script{
				{msgs: []netlink.Message{eventMsg(ipctnlMsgCtNew, netlink.Create, 0, 1)}},
				{err: errENOBUFS},
				{err: errENOBUFS},
				{msgs: []netlink.Message{eventMsg(ipctnlMsgCtNew, netlink.Create, 0, 2)}},
				{err: errENOBUFS},
				{err: errBroken},
			},
			resync:  func(context.Context) error { return nil },
			want:    record{"new:1/0", "lost:2", "resync", "new:2/0", "lost:1", "resync"},
			wantSt:  engine.WatchStats{Received: 2, Overflows: 3},
			wantErr: errBroken,
		},
		{
			name: "overflows without resync",
			script: script{
				{err: errENOBUFS},
				{msgs: []netlink.Message{eventMsg(ipctnlMsgCtDelete, 0, 3, 4)}},
				{err: errBroken},
			},
			want:    record{"lost:1", "destroy:4/3"},
			wantSt:  engine.WatchStats{Received: 1, Overflows: 1},
			wantErr: errBroken,
		},
		{
			name: "failed resync ends the watch",
			script: script{
				{err: errENOBUFS},
				{msgs: []netlink.Message{eventMsg(ipctnlMsgCtNew, netlink.Create, 0, 1)}},
				{err: errBroken},
			},
			resync:  func(context.Context) error { return errors.New("dump failed") },
			want:    record{"lost:1", "resync"},
			wantSt:  engine.WatchStats{Overflows: 1},
			wantErr: errors.New("watch events: resync after lost events: dump failed"),
		},
		{
			name: "skipped messages",
			script: script{
				{msgs: []netlink.Message{other, broken, get, eventMsg(ipctnlMsgCtNew, 0, 0, 5)}},
				{err: errBroken},
			},
			want:    record{"update:5/0"},
			wantSt:  engine.WatchStats{Received: 1, Skipped: 3},
			wantErr: errBroken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, st, err := runScript(t, tt.script, tt.resync)
			if !reflect.DeepEqual(rec, tt.want) {
				t.Errorf("events %q, want %q", rec, tt.want)
			}
			if st != tt.wantSt {
				t.Errorf("stats %+v, want %+v", st, tt.wantSt)
			}
			switch {
			case err == nil:
				t.Errorf("no error, want %v", tt.wantErr)
			case errors.Is(tt.wantErr, errBroken):
				if !errors.Is(err, errBroken) || err.Error() != "failed: socket broke" {
					t.Errorf("error %v, want the reader's error through fail", err)
				}
			case err.Error() != tt.wantErr.Error():
				t.Errorf("error %q, want %q", err, tt.wantErr)
			}
		})
	}
}

// expectMsg builds an expectation event message for a TCP expectation
// to port dport.
func expectMsg(msgType int, flags netlink.HeaderFlags, dport uint16) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(nfnlSubsysCTNetlinkExp<<8 | msgType),
			Flags: flags,
		},
		Data: ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putTuple(e, ctaExpectMaster, "192.0.2.1", "192.0.2.2", engine.ProtoTCP, putPorts(40000, 21), -1)
			putTuple(e, ctaExpectTuple, "192.0.2.1", "192.0.2.2", engine.ProtoTCP, putPorts(0, dport), -1)
			putTuple(e, ctaExpectMask, "255.255.255.255", "255.255.255.255", engine.ProtoTCP, putPorts(0, 0xffff), -1)
			e.u32(ctaExpectTimeout, 300)
			e.bytes(ctaExpectHelpName, []byte("ftp\x00"))
		}),
	}
}

// TestEventStreamExpect checks that a watch of the expect table yields
// expectations and skips conntrack messages.
func TestEventStreamExpect(t *testing.T) {
	s := script{
		{msgs: []netlink.Message{
			expectMsg(ipctnlMsgExpNew, netlink.Create|netlink.Excl, 50000),
			eventMsg(ipctnlMsgCtNew, netlink.Create, 0, 1),
			expectMsg(ipctnlMsgExpDelete, 0, 50000),
		}},
		{err: errBroken},
	}
	q := newRxQueue(rxQueueLimit)
	quit := make(chan struct{})
	defer close(quit)
	go q.receive(s.recv, quit)
	es := eventStream{q: q, cfg: &engine.WatchConfig{Table: engine.TableExpect}, fail: func(err error) error { return err }}
	var got []string
	st, err := es.run(context.Background(), func(ev *engine.Event) error {
		if ev.Flow != nil || ev.Expect == nil {
			t.Fatalf("expect event with flow %v, expect %v", ev.Flow, ev.Expect)
		}
		e := ev.Expect
		got = append(got, fmt.Sprintf("%v %s dport=%d master_dport=%d helper=%s timeout=%d",
			ev.Type, e.Proto, e.Dport, e.MasterDport, e.Helper, e.Timeout))
		return nil
	})
	want := []string{
		fmt.Sprintf("%v tcp dport=50000 master_dport=21 helper=ftp timeout=300", engine.EventNew),
		fmt.Sprintf("%v tcp dport=50000 master_dport=21 helper=ftp timeout=300", engine.EventDestroy),
	}
	if !slices.Equal(got, want) || st != (engine.WatchStats{Received: 2, Skipped: 1}) || !errors.Is(err, errBroken) {
		t.Errorf("expect stream = %q, %+v, %v; want %q, 2 received, 1 skipped", got, st, err, want)
	}
}

// TestEventStreamYieldError checks that yield's error ends the stream
// unchanged.
func TestEventStreamYieldError(t *testing.T) {
	q := newRxQueue(rxQueueLimit)
	q.put([]netlink.Message{eventMsg(ipctnlMsgCtNew, netlink.Create, 0, 1), eventMsg(ipctnlMsgCtNew, 0, 0, 1)}, time.Now(), nil)
	stopErr := errors.New("enough")
	es := eventStream{q: q, cfg: &engine.WatchConfig{}, fail: func(err error) error { return err }}
	n := 0
	st, err := es.run(context.Background(), func(*engine.Event) error { n++; return stopErr })
	if err != stopErr || n != 1 || st.Received != 1 {
		t.Errorf("run = %+v, %v after %d events; want the yield error after 1", st, err, n)
	}
}

// TestEventStreamCancel checks that cancelling ctx ends the stream with
// no error, whether it waits for events or is inside a resync.
func TestEventStreamCancel(t *testing.T) {
	t.Run("waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		es := eventStream{q: newRxQueue(rxQueueLimit), cfg: &engine.WatchConfig{}, fail: func(err error) error { return err }}
		done := make(chan error)
		go func() {
			_, err := es.run(ctx, func(*engine.Event) error { return nil })
			done <- err
		}()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cancelled stream: %v", err)
		}
	})
	t.Run("resync", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		q := newRxQueue(rxQueueLimit)
		q.putOverflow(time.Now(), nil)
		cfg := &engine.WatchConfig{Resync: func(ctx context.Context) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}}
		es := eventStream{q: q, cfg: cfg, fail: func(err error) error { return err }}
		st, err := es.run(ctx, func(*engine.Event) error { return nil })
		if err != nil || st.Overflows != 1 {
			t.Errorf("stream cancelled in resync = %+v, %v; want 1 overflow, no error", st, err)
		}
	})
}

// TestRxQueueBackpressure checks that the reader stops receiving while
// the queue is over its limit, resumes when the decoder takes the items,
// and leaves when quit closes while it waits.
func TestRxQueueBackpressure(t *testing.T) {
	m := eventMsg(ipctnlMsgCtNew, netlink.Create, 0, 1)
	q := newRxQueue(3 * (len(m.Data) + rxItemOverhead)) // three messages
	quit := make(chan struct{})
	calls := make(chan int, 100)
	n := 0
	recv := func() ([]netlink.Message, error) {
		n++
		calls <- n
		if n > 8 {
			<-quit
			return nil, errBroken
		}
		mm := m
		mm.Header.Sequence = uint32(n)
		return []netlink.Message{mm}, nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { q.receive(recv, quit) })
	waitCalls := func(want int) {
		for got := range calls {
			if got == want {
				return
			}
		}
	}
	seqs := func(items []rxItem) []uint32 {
		var s []uint32
		for _, it := range items {
			s = append(s, it.msg.Header.Sequence)
		}
		return s
	}
	// The fourth message waits for room: only three are queued.
	waitCalls(4)
	items, err := q.take(nil)
	if got := seqs(items); err != nil || !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Fatalf("first take = %v, %v; want messages 1-3", got, err)
	}
	// Messages 4-6 fill the queue again and the seventh waits; quit
	// releases the reader.
	waitCalls(7)
	close(quit)
	wg.Wait()
	items, err = q.take(nil)
	if got := seqs(items); err != nil || !slices.Equal(got, []uint32{4, 5, 6}) {
		t.Fatalf("second take = %v, %v; want messages 4-6", got, err)
	}
}

func BenchmarkEventStream(b *testing.B) {
	m := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(nfnlSubsysCTNetlink<<8 | ipctnlMsgCtNew), Flags: netlink.Create | netlink.Excl},
		Data:   mustHex(b, capturedTCP),
	}
	const batch = 128
	msgs := make([]netlink.Message, batch)
	for i := range msgs {
		msgs[i] = m
	}
	q := newRxQueue(rxQueueLimit)
	es := eventStream{q: q, cfg: &engine.WatchConfig{}, fail: func(err error) error { return err }}
	stopErr := errors.New("batch done")
	b.ReportAllocs()
	for b.Loop() {
		q.put(msgs, testNow, nil)
		n := 0
		_, err := es.run(context.Background(), func(*engine.Event) error {
			if n++; n == batch {
				return stopErr
			}
			return nil
		})
		if err != stopErr {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
}

func FuzzEventDecode(f *testing.F) {
	m := eventMsg(ipctnlMsgCtNew, netlink.Create, 42, 1)
	f.Add(false, uint16(m.Header.Type), uint16(m.Header.Flags), m.Data)
	f.Add(false, uint16(nfnlSubsysCTNetlink<<8|ipctnlMsgCtDelete), uint16(0), mustHex(f, capturedTCP))
	f.Add(false, uint16(nfnlSubsysCTNetlink<<8|ipctnlMsgCtNew), uint16(0), mustHex(f, capturedSCTP6))
	m = expectMsg(ipctnlMsgExpNew, netlink.Create, 50000)
	f.Add(true, uint16(m.Header.Type), uint16(m.Header.Flags), m.Data)
	f.Add(true, uint16(0x0200), uint16(0), []byte{2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, expect bool, typ, flags uint16, data []byte) {
		it := rxItem{
			msg: netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: netlink.HeaderFlags(flags), PID: 42}, Data: data},
			at:  testNow,
		}
		es := eventStream{cfg: &engine.WatchConfig{}}
		if expect {
			es.cfg.Table = engine.TableExpect
		}
		if !es.decode(&it) {
			return
		}
		ev := es.ev
		if ev.Type != engine.EventNew && ev.Type != engine.EventUpdate && ev.Type != engine.EventDestroy {
			t.Fatalf("decoded event of type %v", ev.Type)
		}
		if ev.PortID != 42 || !ev.Time.Equal(testNow) {
			t.Fatalf("event fields not set: %+v", ev)
		}
		if expect {
			var e engine.Expect
			if ev.Expect != &es.expect || ev.Flow != nil || DecodeExpect(data, &e) != nil || !reflect.DeepEqual(e, es.expect) {
				t.Fatalf("event expectation differs from DecodeExpect: %+v", ev)
			}
			return
		}
		var f engine.Flow
		if ev.Flow != &es.flow || ev.Expect != nil || DecodeFlow(data, &f, testNow) != nil || !reflect.DeepEqual(f, es.flow) {
			t.Fatalf("event flow differs from DecodeFlow: %+v", ev)
		}
	})
}

func TestWatchBufferSize(t *testing.T) {
	for _, tt := range []struct{ asked, want int }{
		{0, watchReadBuffer}, {1 << 20, watchReadBuffer}, {256 << 20, 256 << 20},
	} {
		if got := watchBufferSize(&engine.WatchConfig{ReadBuffer: tt.asked}); got != tt.want {
			t.Errorf("ReadBuffer %d: asks for %d, want %d", tt.asked, got, tt.want)
		}
	}
}
