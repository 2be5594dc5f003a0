package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// stalledNode listens at a socket of its own and answers each connection
// with answer (which may never return); it returns the socket's path.
func stalledNode(t *testing.T, answer func(c net.Conn)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stalled.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				answer(c)
				<-done
			}()
		}
	}()
	return path
}

// TestClientTimeout: a node that takes a request and never answers, or
// stops in the middle of its reply, fails the request with a
// *TimeoutError instead of hanging.
func TestClientTimeout(t *testing.T) {
	silent := stalledNode(t, func(c net.Conn) {})
	cl := Client{Path: silent, Timeout: 50 * time.Millisecond}
	for _, req := range []Request{{Verb: VerbStatus}, {Verb: VerbCommit}, {Verb: VerbDump, Arg: "external"}} {
		_, err := cl.Do(context.Background(), req)
		var te *TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("%s to a silent node: %v, want a timeout", req, err)
		}
		if want := fmt.Sprintf("sync node at %s did not answer within 50ms", silent); err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	}
	if _, err := cl.FetchMetrics(context.Background()); !errors.As(err, new(*TimeoutError)) {
		t.Errorf("metrics of a silent node: %v", err)
	}

	// A reply that stops after its first line: the line, then the timeout.
	halfway := stalledNode(t, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		fmt.Fprint(c, "OK\nfirst line\n")
	})
	var got []string
	err := Client{Path: halfway, Timeout: 50 * time.Millisecond}.Stream(context.Background(), Request{Verb: VerbDump, Arg: "internal"}, func(l string) error {
		got = append(got, l)
		return nil
	})
	if !errors.As(err, new(*TimeoutError)) || len(got) != 1 || got[0] != "first line" {
		t.Errorf("stalled dump: %q, %v", got, err)
	}

	// Cancelling the context ends the wait too (with the context's error).
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	if _, err := (Client{Path: silent, Timeout: time.Hour}).Do(ctx, Request{Verb: VerbStatus}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: %v", err)
	}
}

// TestClientIdleDeadline: the deadline is for the node's silence, not
// for the whole reply: a dump that keeps coming is read to its end
// whatever it takes.
func TestClientIdleDeadline(t *testing.T) {
	const lines = 8
	path := stalledNode(t, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		fmt.Fprint(c, "OK\n")
		for i := range lines {
			time.Sleep(250 * time.Millisecond)
			fmt.Fprintf(c, "line %d\n", i)
		}
		fmt.Fprint(c, ".\n")
	})
	// Each line comes well within the deadline; all of them take longer.
	body, err := Client{Path: path, Timeout: 1500 * time.Millisecond}.Do(context.Background(), Request{Verb: VerbDump, Arg: "external"})
	if err != nil || len(body) != lines {
		t.Errorf("slow dump: %d lines, %v", len(body), err)
	}
}

func TestClientTimeouts(t *testing.T) {
	for _, tc := range []struct {
		req  Request
		want time.Duration
	}{
		{Request{Verb: VerbStatus}, DefaultTimeout},
		{Request{Verb: VerbDump, Arg: "external"}, DefaultTimeout},
		{Request{Verb: VerbFlush, Arg: "external"}, DefaultTimeout},
		{Request{Verb: VerbFlush, Arg: "kernel expect"}, LongTimeout},
		{Request{Verb: VerbCommit}, LongTimeout},
		{Request{Verb: VerbRefresh, Arg: "conntrack"}, LongTimeout},
		{Request{Verb: VerbBulk}, LongTimeout},
	} {
		if got := (Client{}).timeout(tc.req); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.req, got, tc.want)
		}
	}
	if got := (Client{Timeout: time.Second}).timeout(Request{Verb: VerbCommit}); got != time.Second {
		t.Errorf("commit with Timeout 1s: %s", got)
	}
}
