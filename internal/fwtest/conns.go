package fwtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// EchoServer is a TCP server in the server's namespace that echoes what
// each connection sends.
type EchoServer struct {
	// Port is the port it listens on at ServerAddr.
	Port int
}

// StartEcho starts an echo server on ServerAddr in ns; it stops when the
// test ends.
func StartEcho(t testing.TB, ns *nstest.NS) *EchoServer {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp4", net.JoinHostPort(ServerAddr, "0"))
		return err
	}); err != nil {
		t.Fatalf("fwtest: echo server in %s: %v", ns.Name(), err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(c, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return &EchoServer{Port: ln.Addr().(*net.TCPAddr).Port}
}

// Conn is one long-lived TCP connection of the client.
type Conn struct {
	net.Conn
	// Sport is its source port on the client.
	Sport int
}

// Dial opens n connections from the client's namespace to the echo
// server and makes one exchange on each (so that the firewall has seen
// them established both ways); they are closed when the test ends.
func Dial(t testing.TB, client *nstest.NS, srv *EchoServer, n int) []*Conn {
	t.Helper()
	conns := make([]*Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	err := client.Do(func() error {
		d := net.Dialer{
			LocalAddr: &net.TCPAddr{IP: net.ParseIP(ClientAddr)},
			Timeout:   10 * time.Second,
		}
		addr := net.JoinHostPort(ServerAddr, strconv.Itoa(srv.Port))
		for range n {
			c, err := d.Dial("tcp4", addr)
			if err != nil {
				return err
			}
			conns = append(conns, &Conn{Conn: c, Sport: c.LocalAddr().(*net.TCPAddr).Port})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fwtest: dial the echo server from %s: %v", client.Name(), err)
	}
	for _, c := range conns {
		if err := c.Exchange(10 * time.Second); err != nil {
			t.Fatalf("fwtest: first exchange: %v", err)
		}
	}
	return conns
}

// Exchange sends a few bytes and reads them back within d.
func (c *Conn) Exchange(d time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	msg := []byte("ping")
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("connection from port %d: write: %w", c.Sport, err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("connection from port %d: read the echo: %w", c.Sport, err)
	}
	if string(got) != string(msg) {
		return fmt.Errorf("connection from port %d: echo %q, want %q", c.Sport, got, msg)
	}
	return nil
}

// CheckAll exchanges bytes on every connection at once, each within d, and
// returns how many got their echo back and the errors of the others.
func CheckAll(conns []*Conn, d time.Duration) (ok int, errs []error) {
	res := make(chan error, len(conns))
	for _, c := range conns {
		go func() { res <- c.Exchange(d) }()
	}
	for range conns {
		if err := <-res; err != nil {
			errs = append(errs, err)
		} else {
			ok++
		}
	}
	return ok, errs
}

// ErrNoEcho is returned by Outage when no byte came back in time.
var ErrNoEcho = errors.New("no echo before the deadline")

// Outage sends a byte on each of conns at once and returns how long the
// first echo took to come back (TCP retransmits meanwhile): started right
// after the gateway moved, the time until traffic gets through again. It
// waits for every connection (at most d), so that none is still busy
// afterwards; it fails only when no echo came back.
func Outage(conns []*Conn, d time.Duration) (time.Duration, error) {
	start := time.Now()
	type result struct {
		took time.Duration
		err  error
	}
	res := make(chan result, len(conns))
	for _, c := range conns {
		go func() {
			err := c.Exchange(d)
			res <- result{time.Since(start), err}
		}()
	}
	first := time.Duration(-1)
	var firstErr error
	for range conns {
		r := <-res
		switch {
		case r.err == nil && (first < 0 || r.took < first):
			first = r.took
		case r.err != nil && firstErr == nil:
			firstErr = r.err
		}
	}
	if first < 0 {
		return 0, fmt.Errorf("%w: %w", ErrNoEcho, firstErr)
	}
	return first, nil
}
