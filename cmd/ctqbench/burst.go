package main

import (
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// benchBurst loads flows with conntrack -R while `ctq watch new`,
// `ctq conntrack -E -e NEW` and `conntrack -E -e NEW` listen in the same
// namespace, and reports how many of the NEW events each received.
func benchBurst(cfg config) error {
	ns, err := newNamespace("burst")
	if err != nil {
		return err
	}
	defer ns.remove()

	watch := exec.Command("ip", "netns", "exec", ns.name, cfg.ctq, "-o", "json",
		"-e", fmt.Sprintf("watch new limit %d for 60s", cfg.burstFlows))
	events := exec.Command("ip", "netns", "exec", ns.name, cfg.conntrack, "-E", "-e", "NEW")
	front := exec.Command("ip", "netns", "exec", ns.name, cfg.ctq, "conntrack", "-E", "-e", "NEW")
	counts := make([]chan int, 3)
	for i, cmd := range []*exec.Cmd{watch, events, front} {
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", cmd.Args[4], err)
		}
		counts[i] = make(chan int, 1)
		go func(c chan<- int) {
			n, _ := countLines(out)
			c <- n
		}(counts[i])
	}
	// Both listeners need a moment to subscribe; a sentinel entry would
	// be counted, so wait plainly.
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	if err := ns.fill(cfg.conntrack, synth, 0, cfg.burstFlows); err != nil {
		return err
	}
	load := time.Since(start)

	got := 0
	select {
	case got = <-counts[0]:
	case <-time.After(60 * time.Second):
		_ = watch.Process.Kill()
		got = <-counts[0]
	}
	_ = watch.Wait()
	// conntrack -E (both) ends on SIGINT and prints what it has by then;
	// give its reader a moment to drain first.
	time.Sleep(500 * time.Millisecond)
	_ = events.Process.Signal(syscall.SIGINT)
	_ = front.Process.Signal(syscall.SIGINT)
	theirs, fronts := <-counts[1], <-counts[2]
	_ = events.Wait()
	_ = front.Wait()

	fmt.Printf("\nevent burst: %d flows loaded with conntrack -R in %.2fs\n", cfg.burstFlows, load.Seconds())
	fmt.Printf("%-56s %9d of %d\n", "ctq -e 'watch new' -o json", got, cfg.burstFlows)
	fmt.Printf("%-56s %9d of %d\n", "ctq conntrack -E -e NEW", fronts, cfg.burstFlows)
	fmt.Printf("%-56s %9d of %d\n", "conntrack -E -e NEW", theirs, cfg.burstFlows)
	return nil
}
