package format

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"ctq/engine"
)

// TestEventLossMarker: a loss is marked where it happened, in a way no
// reader of the format takes for a flow: a '#' line in text, an object
// with "lost" in json, a "lost" row of the same width in csv, a comment
// inside the document in xml.
func TestEventLossMarker(t *testing.T) {
	f := evNew
	ev := engine.Event{Type: evNewT, Flow: &f, Time: unixTime(1795390188, 0)}
	at := unixTime(1795390189, 0)
	run := func(name string) []string {
		t.Helper()
		var out bytes.Buffer
		w, err := NewEvents(name, &out, EventOptions{Options: testOptions(nil)})
		if err != nil {
			t.Fatal(err)
		}
		lw, ok := w.(engine.LossWriter)
		if !ok {
			t.Fatalf("%s: the event writer does not mark losses", name)
		}
		if err := w.WriteEvent(&ev); err != nil {
			t.Fatal(err)
		}
		if err := lw.WriteLoss(3, at); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteEvent(&ev); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	}

	text := run("text")
	if len(text) != 3 || text[1] != LossText+" x3" || !strings.HasPrefix(text[0], "    [NEW]") {
		t.Errorf("text:\n%s", strings.Join(text, "\n"))
	}
	if save := run("save"); len(save) != 3 || save[1] != LossText+" x3" {
		t.Errorf("save:\n%s", strings.Join(save, "\n"))
	}

	js := run("json")
	if len(js) != 3 || js[1] != `{"lost":true,"overflows":3,"time":"2026-11-22T23:29:49.000000000Z"}` {
		t.Errorf("json:\n%s", strings.Join(js, "\n"))
	}
	for _, l := range js {
		if !json.Valid([]byte(l)) {
			t.Errorf("json: invalid line %s", l)
		}
	}

	rows, err := csv.NewReader(strings.NewReader(strings.Join(run("csv"), "\n") + "\n")).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err) // also: rows of different widths
	}
	if len(rows) != 4 || rows[2][0] != "lost" || rows[2][1] != "2026-11-22T23:29:49.000000000Z" || rows[1][0] != "new" {
		t.Errorf("csv: %q", rows)
	}

	doc := strings.Join(run("xml"), "\n")
	if strings.Count(doc, "<flow ") != 2 || !strings.Contains(doc, "<!-- "+LossText+" x3 -->") {
		t.Errorf("xml:\n%s", doc)
	}
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Errorf("xml: %v", err)
			}
			break
		}
	}

	// A loss before any event opens the xml document and the csv section.
	var out bytes.Buffer
	w, _ := NewEvents("csv", &out, EventOptions{Options: testOptions(nil)})
	if err := w.(engine.LossWriter).WriteLoss(1, at); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if rows, err := csv.NewReader(&out).ReadAll(); err != nil || len(rows) != 2 || rows[1][0] != "lost" {
		t.Errorf("csv loss first: %q %v", rows, err)
	}
}
