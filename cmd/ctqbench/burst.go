package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// burstQuiet is how long a listener's output must stay the same after the
// load before it is stopped; burstLimit bounds the whole wait after the
// load.
const (
	burstQuiet = 3 * time.Second
	burstLimit = 3 * time.Minute
)

// listener is one event listener of the burst and what it printed.
type listener struct {
	name   string
	cmd    *exec.Cmd
	stderr bytes.Buffer
	// events counts event lines, lost the loss markers (ctq's: a json
	// object {"lost":true,...} or a line starting with '#'), overflows
	// the kernel overflows the markers report.
	events, lost, overflows atomic.Int64
	done                    chan struct{}
}

// startListener starts argv in the namespace with its output counted.
func startListener(ctx context.Context, ns *namespace, name string, argv ...string) (*listener, error) {
	l := &listener{name: name, done: make(chan struct{})}
	l.cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.name}, argv...)...)
	l.cmd.Stderr = &l.stderr
	out, err := l.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := l.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		defer close(l.done)
		l.count(out)
		_ = l.cmd.Wait()
	}()
	return l, nil
}

// count reads the listener's output to its end.
func (l *listener) count(r io.Reader) {
	br := bufio.NewReaderSize(r, 256<<10)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case len(line) == 0:
		case bytes.HasPrefix(line, []byte(`{"lost":true`)):
			l.lost.Add(1)
			var m struct{ Overflows int64 }
			if json.Unmarshal(line, &m) == nil {
				l.overflows.Add(m.Overflows)
			}
		case line[0] == '#':
			l.lost.Add(1)
		default:
			if err != bufio.ErrBufferFull {
				l.events.Add(1)
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// stop ends the listener with SIGINT (conntrack -E and ctq print what they
// have and end) and waits; SIGKILL after 10 s.
func (l *listener) stop() {
	_ = l.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		_ = l.cmd.Process.Kill()
		<-l.done
	}
}

// waitQuiet waits until the listener has ended or its count has not
// changed for burstQuiet, at most until deadline.
func (l *listener) waitQuiet(ctx context.Context, deadline time.Time) error {
	last, since := int64(-1), time.Now()
	for time.Now().Before(deadline) {
		n := l.events.Load() + l.lost.Load()
		if n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= burstQuiet {
			return nil
		}
		select {
		case <-l.done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("interrupted: %w", context.Cause(ctx))
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}

// benchBurst loads flows with conntrack -R while `ctq watch new`,
// `ctq conntrack -E -e NEW` and `conntrack -E -e NEW` listen in the same
// namespace, and reports how many of the NEW events each received, and
// the losses ctq reported.
func benchBurst(ctx context.Context, cfg config) error {
	ns, err := newNamespace("burst")
	if err != nil {
		return err
	}
	defer ns.remove()

	var ls []*listener
	defer func() {
		for _, l := range ls {
			l.stop()
		}
	}()
	for _, spec := range []struct {
		name string
		argv []string
	}{
		{"ctq -e 'watch new' -o json", []string{cfg.ctq, "-o", "json", "-e", fmt.Sprintf("watch new limit %d", cfg.burstFlows)}},
		{"ctq conntrack -E -e NEW", []string{cfg.ctq, "conntrack", "-E", "-e", "NEW"}},
		{"conntrack -E -e NEW", []string{cfg.conntrack, "-E", "-e", "NEW"}},
	} {
		l, err := startListener(ctx, ns, spec.name, spec.argv...)
		if err != nil {
			return err
		}
		ls = append(ls, l)
	}
	// The listeners need a moment to subscribe; a sentinel entry would be
	// counted, so wait plainly.
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	start := time.Now()
	if err := ns.fill(cfg.conntrack, synth, 0, cfg.burstFlows); err != nil {
		return err
	}
	load := time.Since(start)
	deadline := time.Now().Add(burstLimit)
	for _, l := range ls {
		if err := l.waitQuiet(ctx, deadline); err != nil {
			return err
		}
	}
	for _, l := range ls {
		l.stop()
	}
	done := ls
	ls = nil

	fmt.Printf("\nevent burst: %d flows loaded with conntrack -R in %.2fs (%.0f a second) while three listeners ran:\n",
		cfg.burstFlows, load.Seconds(), float64(cfg.burstFlows)/load.Seconds())
	for i, l := range done {
		got := l.events.Load()
		fmt.Printf("%-44s %9d of %d events (%.3f), %d lost", l.name, got, cfg.burstFlows, float64(got)/float64(cfg.burstFlows), int64(cfg.burstFlows)-got)
		if l.lost.Load() > 0 {
			fmt.Printf("; %d loss markers", l.lost.Load())
			if l.overflows.Load() > 0 {
				fmt.Printf(" (%d kernel overflows)", l.overflows.Load())
			}
		}
		fmt.Println()
		// ctq's watch says on stderr what it lost, if anything.
		if msg := strings.TrimSpace(l.stderr.String()); i == 0 && msg != "" {
			fmt.Printf("%-44s %s\n", "", msg)
		}
	}
	return nil
}
