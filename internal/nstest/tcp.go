package nstest

import (
	"errors"
	"io"
	"net"
	"testing"
)

// TCPExchange makes one TCP connection on 127.0.0.1 inside the namespace,
// sends "ping", answers "pong" and closes both ends (the server waits for
// the client's FIN, so the entry goes through the whole TCP state machine).
// It returns the server's port.
func (n *NS) TCPExchange(t testing.TB) int {
	t.Helper()
	port := 0
	err := n.Do(func() error {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		port = ln.Addr().(*net.TCPAddr).Port
		served := make(chan error, 1)
		go func() { served <- pong(ln) }()
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			return err
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			c.Close()
			return err
		}
		if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
			c.Close()
			return err
		}
		if err := c.Close(); err != nil {
			return err
		}
		return <-served
	})
	if err != nil {
		t.Fatalf("TCP exchange in %s: %v", n.Name(), err)
	}
	return port
}

// pong serves one connection of TCPExchange.
func pong(ln net.Listener) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if _, err := c.Write([]byte("pong")); err != nil {
		return err
	}
	// Wait for the client's FIN before closing.
	if _, err := c.Read(buf); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
