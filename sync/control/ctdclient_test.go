package control

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
)

// ctdServer answers one conntrackd request on a UNIX socket with reply,
// and sends the code it read to codes.
func ctdServer(t *testing.T, reply string) (path string, codes <-chan uint32) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "ctd.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan uint32, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var b [4]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return
		}
		ch <- binary.NativeEndian.Uint32(b[:])
		io.WriteString(c, reply)
	}()
	return path, ch
}

func TestClientConntrackd(t *testing.T) {
	for _, tt := range []struct {
		name, reply, fail string
	}{
		{"nothing", "", ""},
		{"a page", "cache internal:\ncurrent active connections:\t 0\n", ""},
		{"an error line", "ERROR: commit failed: the kernel refused 3 of 3 entries\n", "commit failed: the kernel refused 3 of 3 entries"},
		{"an error line without newline", "x\nERROR: flush failed", "flush failed"},
		{"ERROR inside a line", "tcp ERROR: no\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, codes := ctdServer(t, tt.reply)
			var out bytes.Buffer
			err := Client{Path: path}.Conntrackd(context.Background(), CodeAllCommit, &out)
			if got := <-codes; got != CodeAllCommit {
				t.Errorf("the server read code %d, want %d", got, CodeAllCommit)
			}
			if out.String() != tt.reply {
				t.Errorf("copied %q, want %q", out.String(), tt.reply)
			}
			var re *RemoteError
			switch {
			case tt.fail == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.fail != "" && (!errors.As(err, &re) || re.Msg != tt.fail):
				t.Errorf("error %v, want a RemoteError %q", err, tt.fail)
			}
		})
	}
}

func TestClientConntrackdNoDaemon(t *testing.T) {
	err := Client{Path: filepath.Join(t.TempDir(), "none.sock")}.Conntrackd(context.Background(), CodeStats, io.Discard)
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("error %v, want a dial error", err)
	}
}
