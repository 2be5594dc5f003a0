package verb

import (
	"slices"
	"strings"
	"testing"
)

func TestNext(t *testing.T) {
	tests := []struct {
		verb, arg string
		words     []string
		done      bool
	}{
		{Dump, "", []string{"internal", "external"}, false},
		{Dump, "internal", []string{"expect"}, true},
		{Dump, "internal expect", nil, true},
		{Flush, "", []string{"internal", "external", "kernel"}, true},
		{Flush, "kernel", []string{"conntrack", "expect"}, true},
		{Flush, "internal", nil, true},
		{Status, "", nil, true},
		{Commit, "", []string{"conntrack", "expect"}, true},
		{Commit, "kernel", nil, false},
	}
	for _, tt := range tests {
		v, ok := Lookup(tt.verb, Statement)
		if !ok {
			t.Fatalf("no verb %q", tt.verb)
		}
		words, done := v.Next(tt.arg)
		if !slices.Equal(words, tt.words) || done != tt.done {
			t.Errorf("%s.Next(%q) = %q, %v; want %q, %v", tt.verb, tt.arg, words, done, tt.words, tt.done)
		}
	}
}

// TestNextWalksArgs checks that walking Next from no argument reaches
// exactly the verb's arguments.
func TestNextWalksArgs(t *testing.T) {
	for _, name := range Names(Statement | Request) {
		v, _ := Lookup(name, Statement|Request)
		var got []string
		var walk func(arg string)
		walk = func(arg string) {
			words, done := v.Next(arg)
			if done {
				got = append(got, arg)
			}
			for _, w := range words {
				walk(strings.TrimSpace(arg + " " + w))
			}
		}
		walk("")
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(v.Args))) {
			t.Errorf("%s: Next reaches %q, Args are %q", v.Name, got, v.Args)
		}
	}
}

func TestUses(t *testing.T) {
	if _, ok := Lookup(Run, Request); ok {
		t.Error("run is a request")
	}
	if _, ok := Lookup(Metrics, Statement); ok {
		t.Error("metrics is a statement verb")
	}
	if got := Actions(Statement)[:3]; !slices.Equal(got, []string{"run", "start", "stop"}) {
		t.Errorf("Actions starts %q", got)
	}
	v, _ := Lookup(Commit, Statement)
	v.Args[0] = "x"
	if v, _ := Lookup(Commit, Statement); v.Args[0] != "" {
		t.Error("Lookup shares the table")
	}
}

func TestUsage(t *testing.T) {
	want := []string{
		"run|start",
		"stop|status|resync|bulk|purge",
		"commit|refresh [conntrack|expect]",
		"flush [internal|external|kernel [conntrack|expect]]",
		"dump internal|external [expect]",
	}
	if got := Usage(Statement); !slices.Equal(got, want) {
		t.Errorf("Usage(Statement) = %q, want %q", got, want)
	}
}
