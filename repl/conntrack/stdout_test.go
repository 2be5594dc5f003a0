package conntrack

import (
	"bytes"
	"strings"
	"testing"
)

// chunks records the writes it gets.
type chunks struct{ sizes []int }

func (c *chunks) Write(p []byte) (int, error) { c.sizes = append(c.sizes, len(p)); return len(p), nil }

func TestBlockWriter(t *testing.T) {
	var c chunks
	b := newBlockWriter(&c, false)
	var stderr bytes.Buffer
	e := stderrWriter{out: b, w: &stderr}
	line := strings.Repeat("x", 99) + "\n"
	for range 100 {
		b.WriteString(line)
	}
	// 10000 bytes: at a write to stderr two whole blocks go out.
	e.Write([]byte("summary\n"))
	if len(c.sizes) != 1 || c.sizes[0] != 2*stdioBlock {
		t.Fatalf("writes before stderr %v, want [%d]", c.sizes, 2*stdioBlock)
	}
	b.Write(bytes.Repeat([]byte("y"), blockBuffer))
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	// The buffer filled once (blockBuffer bytes), the rest at the end.
	want := []int{2 * stdioBlock, blockBuffer, 10000 - 2*stdioBlock}
	if len(c.sizes) != len(want) {
		t.Fatalf("writes %v, want %v", c.sizes, want)
	}
	for i := range want {
		if c.sizes[i] != want[i] {
			t.Fatalf("writes %v, want %v", c.sizes, want)
		}
	}
}

func TestBlockWriterTerminal(t *testing.T) {
	var c chunks
	b := newBlockWriter(&c, true)
	b.WriteString("a line\n")
	b.Write([]byte("another\n"))
	if len(c.sizes) != 2 || c.sizes[0] != 7 || c.sizes[1] != 8 {
		t.Errorf("writes on a terminal %v, want [7 8]", c.sizes)
	}
}
