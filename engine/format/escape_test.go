package format

import (
	"bytes"
	"strings"
	"testing"

	"ctq/engine"
)

// hostile are strings a table or a saved file may hold in a helper name,
// a security context, a label name or a state: terminal escapes (CSI, OSC,
// a raw C1 byte and a UTF-8 C1 rune), DEL and BEL.
const (
	hostileHelper = "ftp\x1b[2J\x1b]0;owned\x07"
	hostileSecctx = "ctx\x9b31m\x7f"
	hostileLabel  = "web\u009b1m"
	hostileState  = "EST\x1b[5m"
)

// rawControl returns the first control byte or C1 rune of out a terminal
// would act on (newlines and tabs, which CSV quotes, aside), or "".
func rawControl(out string) string {
	for i, r := range out {
		switch {
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return strings.ToValidUTF8(out[max(0, i-20):min(len(out), i+20)], "?")
		case r == 0xfffd && out[i] != 0xef:
			return "invalid UTF-8"
		}
	}
	return ""
}

// TestOutputEscapesControls checks every output format for control
// characters from the table: the text formats show them escaped (\x1b),
// json and xml in their own escapes.
func TestOutputEscapesControls(t *testing.T) {
	f := flow("ipv4", 6, "192.0.2.1", "192.0.2.2", 1, 2).reply("192.0.2.2", "192.0.2.1", 2, 1).
		timeout(5).status(0).helper(hostileHelper).secctx(hostileSecctx).labels(0).build()
	f.State, f.StateNum, f.Has = hostileState, 3, f.Has|engine.HasState
	opts := testOptions(map[int]string{0: hostileLabel})
	e := expect("ipv4", 6, "192.0.2.1", "192.0.2.2", 0, 21).helper(hostileHelper).fn("fn\x1b[1m").build()
	for _, name := range []string{"text", "extended,id,ktimestamp,labels", "save", "json", "csv", "table", "xml"} {
		t.Run(name, func(t *testing.T) {
			out := writeAll(t, name, opts, []engine.Flow{f})
			if c := rawControl(out); c != "" {
				t.Errorf("flow output holds a raw control character (%q):\n%q", c, out)
			}
			var b bytes.Buffer
			w, err := NewExpect(name, &b, opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteExpect(&e); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if c := rawControl(b.String()); c != "" {
				t.Errorf("expect output holds a raw control character (%q):\n%q", c, b.String())
			}
			if name == "table" {
				return // no event stream
			}
			ev := writeEvents(t, name, EventOptions{Options: opts, ProgName: func(uint32) string { return "prog\x1b[8m" }},
				engine.Event{Type: evNewT, Flow: &f, PortID: 7}, engine.Event{Type: evNewT, Expect: &e, PortID: 7})
			if c := rawControl(ev); c != "" {
				t.Errorf("event output holds a raw control character (%q):\n%q", c, ev)
			}
		})
	}
	// The text formats use Go escapes.
	out := writeAll(t, "extended,labels", opts, []engine.Flow{f})
	for _, want := range []string{`helper=ftp\x1b[2J\x1b]0;owned\x07`, `secctx=ctx\x9b31m\x7f`, `labels=web\u009b1m`} {
		if !strings.Contains(out, want) {
			t.Errorf("extended output lacks %s:\n%s", want, out)
		}
	}
	if out := writeAll(t, "csv", opts, []engine.Flow{f}); !strings.Contains(out, `,ftp\x1b[2J\x1b]0;owned\x07,`) {
		t.Errorf("csv output:\n%s", out)
	}
}

func TestGroupsEscapeControls(t *testing.T) {
	groups := []engine.Group{{Keys: []any{hostileHelper}, Value: 2}, {Keys: []any{"a\tb\nc"}, Value: 1}}
	for _, name := range []string{"text", "table", "csv", "json"} {
		var b bytes.Buffer
		if err := WriteGroups(&b, name, []string{"helper", "count"}, groups); err != nil {
			t.Fatal(err)
		}
		if c := rawControl(b.String()); c != "" {
			t.Errorf("%s: raw control character (%q):\n%q", name, c, b.String())
		}
	}
	var b bytes.Buffer
	if err := WriteGroups(&b, "text", []string{"helper", "count"}, groups[:1]); err != nil {
		t.Fatal(err)
	}
	if want := `ftp\x1b[2J\x1b]0;owned\x07  2` + "\n"; b.String() != want {
		t.Errorf("text groups %q, want %q", b.String(), want)
	}
}
