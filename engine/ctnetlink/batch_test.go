//go:build linux

package ctnetlink

import (
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

// fakeKernel is a netlink socket that answers batches as ctnetlink does:
// one datagram per failed request, an acknowledgement for a successful
// request that asks for one, all queued during the send. A receive queue
// of limited capacity drops answers and reports ENOBUFS once; an empty
// queue reads as an expired deadline.
type fakeKernel struct {
	// errno decides the outcome of a request (0: done).
	errno    func(m netlink.Message) unix.Errno
	capacity int // answers the queue holds; 0: any number
	sendErr  error

	queue    [][]netlink.Message
	overflow bool
	sends    [][]netlink.Message
}

func (k *fakeKernel) Close() error                     { return nil }
func (k *fakeKernel) SetDeadline(time.Time) error      { return nil }
func (k *fakeKernel) SetReadDeadline(time.Time) error  { return nil }
func (k *fakeKernel) SetWriteDeadline(time.Time) error { return nil }
func (k *fakeKernel) Send(m netlink.Message) error     { return k.SendMessages([]netlink.Message{m}) }

func (k *fakeKernel) SendMessages(msgs []netlink.Message) error {
	if k.sendErr != nil {
		return os.NewSyscallError("sendmsg", k.sendErr)
	}
	k.sends = append(k.sends, append([]netlink.Message(nil), msgs...))
	for _, m := range msgs {
		errno := k.errno(m)
		if errno == 0 && m.Header.Flags&netlink.Acknowledge == 0 {
			continue
		}
		if k.capacity > 0 && len(k.queue) >= k.capacity {
			k.overflow = true
			continue
		}
		// struct nlmsgerr: the negative errno, then the request's header
		// (NLM_F_CAPPED: without its payload).
		data := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
		data = append(data, make([]byte, nlmsgHdrLen)...)
		k.queue = append(k.queue, []netlink.Message{{
			Header: netlink.Header{Type: netlink.Error, Sequence: m.Header.Sequence, PID: m.Header.PID},
			Data:   data,
		}})
	}
	return nil
}

func (k *fakeKernel) Receive() ([]netlink.Message, error) {
	var out []netlink.Message
	for m, err := range k.ReceiveIter() {
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (k *fakeKernel) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		switch {
		case k.overflow:
			k.overflow = false
			yield(netlink.Message{}, os.NewSyscallError("recvmsg", unix.ENOBUFS))
			return
		case len(k.queue) == 0:
			yield(netlink.Message{}, os.ErrDeadlineExceeded)
			return
		}
		d := k.queue[0]
		k.queue = k.queue[1:]
		for _, m := range d {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// kernelBatch is a batch on a fake kernel, with at most max requests to a
// send.
func kernelBatch(ctx context.Context, k *fakeKernel, max int) *liveBatch {
	c := netlink.NewConn(k, 1)
	l := &Live{active: map[*netlink.Conn]struct{}{c: {}}}
	write := func(buf []byte) error {
		msgs, _, err := parseDumpDatagram(buf, nil)
		if err != nil {
			return err
		}
		_, err = c.SendMessages(msgs)
		return err
	}
	return &liveBatch{l: l, ctx: ctx, c: c, stop: func() bool { return true }, write: write,
		maxRequests: max, maxBytes: 1 << 20, seq: 1, cur: new(group)}
}

// portFlow is a TCP flow whose source port is port.
func portFlow(port int) engine.Flow {
	f := tcpFlow()
	f.Sport, f.Timeout = port, 60
	return f
}

// sportOf reads the original source port back from a request.
func sportOf(t *testing.T, m netlink.Message) int {
	var f engine.Flow
	if err := DecodeFlow(m.Data, &f, time.Time{}); err != nil {
		t.Fatalf("request does not decode: %v", err)
	}
	return f.Sport
}

func TestBatchAnswers(t *testing.T) {
	// Source ports 1xx: done; 2xx: gone; 3xx: exists; 4xx: busy.
	byPort := func(t *testing.T) func(m netlink.Message) unix.Errno {
		return func(m netlink.Message) unix.Errno {
			switch sportOf(t, m) / 100 {
			case 2:
				return unix.ENOENT
			case 3:
				return unix.EEXIST
			case 4:
				return unix.EBUSY
			}
			return 0
		}
	}
	tests := []struct {
		name     string
		max      int
		capacity int
		ports    []int
		op       batchOp
		want     engine.BatchStats
		sends    int
		errs     []string
	}{{
		name: "all done, one send", max: 10, ports: []int{100, 101, 102},
		want: engine.BatchStats{Done: 3}, sends: 1,
	}, {
		name: "gone and failed deletes, last one failing", max: 10, ports: []int{100, 200, 400, 101, 300},
		want:  engine.BatchStats{Done: 2, Gone: 1, Failed: 2},
		sends: 1,
		errs: []string{
			"delete tcp 192.0.2.1:400 -> 198.51.100.7:443: device or resource busy (EBUSY)",
			"delete tcp 192.0.2.1:300 -> 198.51.100.7:443: file exists (EEXIST)",
		},
	}, {
		name: "creates: ENOENT is a failure", max: 10, ports: []int{200, 300}, op: opCreate,
		want: engine.BatchStats{Failed: 2}, sends: 1,
		errs: []string{
			"create tcp 192.0.2.1:200 -> 198.51.100.7:443: no such entry (ENOENT)",
			"create tcp 192.0.2.1:300 -> 198.51.100.7:443: an entry with this tuple exists already (EEXIST)",
		},
	}, {
		name: "batches of two", max: 2, ports: []int{100, 200, 101, 102, 103},
		want: engine.BatchStats{Done: 4, Gone: 1}, sends: 3,
	}, {
		name: "overflow", max: 10, capacity: 2, ports: []int{200, 201, 202, 203, 100},
		want:  engine.BatchStats{Gone: 2, Unknown: 3},
		sends: 1,
		errs:  []string{"3 of 5 requests have an unknown outcome: their answers overflowed the socket's receive buffer (ENOBUFS)"},
	}, {
		name: "overflow, then a batch that fits", max: 5, capacity: 2, ports: []int{200, 201, 202, 203, 204, 100, 101},
		want:  engine.BatchStats{Gone: 2, Unknown: 3, Done: 2},
		sends: 2,
		errs:  []string{"3 of 5 requests have an unknown outcome: their answers overflowed the socket's receive buffer (ENOBUFS)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &fakeKernel{errno: byPort(t), capacity: tt.capacity}
			b := kernelBatch(context.Background(), k, tt.max)
			for _, p := range tt.ports {
				f := portFlow(p)
				var err error
				if tt.op == opCreate {
					err = b.Create(&f)
				} else {
					err = b.Delete(&f)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			st, err := b.Close()
			if err != nil {
				t.Fatal(err)
			}
			var errs []string
			for _, e := range st.Errors {
				errs = append(errs, e.Error())
			}
			if st.Done != tt.want.Done || st.Gone != tt.want.Gone || st.Failed != tt.want.Failed ||
				st.Unknown != tt.want.Unknown {
				t.Errorf("stats %+v, want %+v", st, tt.want)
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors %q, want %q", errs, tt.errs)
			}
			for i := range errs {
				if !strings.HasPrefix(errs[i], tt.errs[i]) {
					t.Errorf("error %q, want %q", errs[i], tt.errs[i])
				}
			}
			if len(k.sends) != tt.sends {
				t.Fatalf("%d sends, want %d", len(k.sends), tt.sends)
			}
			for _, s := range k.sends {
				for i, m := range s {
					if ack := m.Header.Flags&netlink.Acknowledge != 0; ack != (i == len(s)-1) {
						t.Errorf("request %d of %d: acknowledge %v", i, len(s), ack)
					}
				}
			}
		})
	}
}

func TestBatchErrorsKept(t *testing.T) {
	k := &fakeKernel{errno: func(netlink.Message) unix.Errno { return unix.EINVAL }}
	b := kernelBatch(context.Background(), k, 1000)
	for p := range 25 {
		f := portFlow(p)
		if err := b.Update(&f, engine.Change{SetMark: true}); err != nil {
			t.Fatal(err)
		}
	}
	f := portFlow(99)
	if err := b.Update(&f, engine.Change{}); err != nil {
		t.Fatal(err)
	}
	st, err := b.Close()
	if err != nil || st.Failed != 25 || len(st.Errors) != batchMaxErrors ||
		!errors.Is(st.Errors[0], unix.EINVAL) || !strings.Contains(st.Errors[0].Error(), "update tcp") {
		t.Errorf("stats %+v, %v", st, err)
	}
	if got := len(k.sends[0]); got != 25 {
		t.Errorf("%d requests sent, want 25 (an empty change is not sent)", got)
	}
	if err := b.Delete(&f); !errors.Is(err, errBatchClosed) {
		t.Errorf("Delete after Close = %v", err)
	}
	if st2, err := b.Close(); err != nil || st2.Failed != st.Failed {
		t.Errorf("second Close = %+v, %v", st2, err)
	}
}

func TestBatchSendFailure(t *testing.T) {
	k := &fakeKernel{errno: func(netlink.Message) unix.Errno { return 0 }, sendErr: unix.EMSGSIZE}
	b := kernelBatch(context.Background(), k, 2)
	f := portFlow(1)
	if err := b.Delete(&f); err != nil {
		t.Fatal(err)
	}
	// The second request fills the group, which goes to the sender; the
	// failure shows in a later call that hands a group over, once the
	// sender is done with the group, and in Close.
	if err := b.Delete(&f); err != nil {
		t.Fatalf("Delete filling the batch = %v", err)
	}
	var err error
	for range 1000 {
		if err = b.Delete(&f); err != nil {
			break
		}
	}
	if !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("Delete after a failed send = %v, want EMSGSIZE", err)
	}
	st, err := b.Close()
	if !errors.Is(err, unix.EMSGSIZE) || st.Failed != 2 || len(st.Errors) != 1 {
		t.Errorf("Close = %+v, %v", st, err)
	}
}

func TestBatchCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	k := &fakeKernel{errno: func(netlink.Message) unix.Errno { return 0 }}
	b := kernelBatch(ctx, k, 10)
	f := portFlow(1)
	if err := b.Delete(&f); err != nil {
		t.Fatal(err)
	}
	cancel()
	st, err := b.Close()
	if !errors.Is(err, context.Canceled) || len(k.sends) != 0 || st.Done != 0 {
		t.Errorf("Close after cancel = %+v, %v, %d sends", st, err, len(k.sends))
	}
}

func TestBatchEncodeError(t *testing.T) {
	k := &fakeKernel{errno: func(netlink.Message) unix.Errno { return 0 }}
	b := kernelBatch(context.Background(), k, 10)
	good, bad := portFlow(1), portFlow(70000)
	if err := b.Create(&good); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(&bad); err == nil || !strings.Contains(err.Error(), "create tcp") {
		t.Errorf("Create(port 70000) = %v", err)
	}
	if err := b.Create(&good); err != nil {
		t.Fatal(err)
	}
	st, err := b.Close()
	if err != nil || st.Done != 2 {
		t.Errorf("Close = %+v, %v", st, err)
	}
	// The bad entry left nothing behind: both requests decode.
	for _, m := range k.sends[0] {
		if sportOf(t, m) != 1 {
			t.Errorf("request %x", m.Data)
		}
	}
}

func TestErrnoText(t *testing.T) {
	tests := []struct {
		op   batchOp
		err  error
		want string
	}{
		{opCreate, unix.EEXIST, "an entry with this tuple exists already (EEXIST)"},
		{opDelete, unix.EEXIST, "file exists (EEXIST)"},
		{opCreate, unix.EBUSY, "the kernel refused the status (EBUSY: only SEEN_REPLY, ASSURED and FIXED_TIMEOUT can be set, and set bits cannot be cleared)"},
		{opUpdate, unix.ENOSPC, "the entry has no room for labels: it was created before any rule set ct labels (ENOSPC)"},
		{opUpdate, unix.EINVAL, "the kernel rejected the request as invalid (EINVAL)"},
		{opCreate, unix.EOPNOTSUPP, "the kernel cannot set up NAT for this translated entry: it has no NAT support (CONFIG_NF_NAT, module nf_nat) (EOPNOTSUPP)"},
		{opDelete, unix.EPERM, engine.ErrPermission.Error()},
		{opDelete, errors.New("other"), "other"},
	}
	for _, tt := range tests {
		if got := errnoText(tt.op, tt.err); got != tt.want {
			t.Errorf("errnoText(%v, %v) = %q, want %q", tt.op, tt.err, got, tt.want)
		}
	}
}

// TestBatchWaitsForDumpStart checks that a batch sends nothing while its
// source starts a dump (dumpStarts), and everything after.
func TestBatchWaitsForDumpStart(t *testing.T) {
	k := &fakeKernel{errno: func(netlink.Message) unix.Errno { return 0 }}
	b := kernelBatch(context.Background(), k, 2)
	starts := &b.l.starts
	var during atomic.Int32
	write := b.write
	b.write = func(buf []byte) error {
		starts.mu.Lock()
		if starts.n > 0 {
			during.Add(1)
		}
		starts.mu.Unlock()
		return write(buf)
	}
	starts.begin()
	ended := make(chan struct{})
	go func() {
		// Long enough for a sender that does not wait to send.
		time.Sleep(20 * time.Millisecond)
		starts.end()
		close(ended)
	}()
	for p := range 10 {
		f := portFlow(p)
		if err := b.Delete(&f); err != nil {
			t.Fatal(err)
		}
	}
	st, err := b.Close()
	<-ended
	if err != nil || st.Done != 10 || len(k.sends) != 5 {
		t.Errorf("Close = %+v, %v after %d sends, want 10 done in 5", st, err, len(k.sends))
	}
	if n := during.Load(); n > 0 {
		t.Errorf("%d groups sent while a dump was starting", n)
	}
}

func TestDumpStarts(t *testing.T) {
	var s dumpStarts
	s.wait(context.Background()) // idle: returns at once
	s.begin()
	s.begin()
	s.end()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.wait(ctx) // busy, but the context is done
	done := make(chan struct{})
	go func() {
		s.wait(context.Background())
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("wait returned while a start was in progress")
	case <-time.After(10 * time.Millisecond):
	}
	s.end()
	<-done
	s.begin() // a new round after idle
	s.end()
	s.wait(context.Background())
}
