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
	line := strings.Repeat("x", 99) + "\n"
	for range 100 {
		b.WriteString(line)
	}
	b.Write(bytes.Repeat([]byte("y"), 3*stdioBlock))
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	// 10000 + 12288 bytes: five whole blocks, then the rest.
	want := []int{stdioBlock, stdioBlock, stdioBlock, stdioBlock, stdioBlock, 10000 + 3*stdioBlock - 5*stdioBlock}
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
