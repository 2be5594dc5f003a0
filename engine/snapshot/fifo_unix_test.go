//go:build unix

package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"ctq/engine"
)

// TestFIFOReadOnce reads a named pipe: one scan, then a clear error.
func TestFIFOReadOnce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.WriteString(textSeeds[0] + "\n")
		w.Close()
	}()
	s, err := Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	if _, err := s.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("first scan of a FIFO: %d entries, %v", n, err)
	}
	if _, err := s.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { return nil }); err == nil {
		t.Error("second scan of a FIFO succeeded")
	}
}
