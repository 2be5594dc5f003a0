package main

import (
	"reflect"
	"strings"
	"testing"

	"ctq/engine/format"
	"ctq/internal/cli"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    options
		wantErr string
	}{
		{[]string{"-e", "count", "-e", "list", "-o", "json"}, options{exprs: []string{"count", "list"}, format: "json"}, ""},
		{[]string{"--from=t.save", "--exec", "count"}, options{exprs: []string{"count"}, from: "t.save"}, ""},
		{[]string{"script.ctq", "--netns", "fw1", "--output", "table"}, options{script: "script.ctq", netns: "fw1", format: "table"}, ""},
		{[]string{"--", "-odd-name.ctq"}, options{script: "-odd-name.ctq"}, ""},
		{[]string{"-V"}, options{version: true}, ""},
		{[]string{"--fail-empty", "-e", "list"}, options{exprs: []string{"list"}, failEmpty: true}, ""},
		{[]string{"--fail-empty=1"}, options{}, "takes no value"},
		{[]string{"--help"}, options{help: true}, ""},
		{[]string{"-x"}, options{}, "unknown flag -x"},
		{[]string{"-e"}, options{}, "flag -e needs a value"},
		{[]string{"a.ctq", "b.ctq"}, options{}, "one script at a time"},
		{[]string{"a.ctq", "-e", "list"}, options{}, "not both"},
		{[]string{"--from", "t.save", "--netns", "x"}, options{}, "exclude each other"},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.args, *got, tt.want)
		}
	}
}

func TestUsageListsFormats(t *testing.T) {
	u := strings.Join(strings.Fields(usage()), " ")
	for _, name := range format.Names() {
		if !strings.Contains(u, " "+name+",") && !strings.Contains(u, " "+name+" ") {
			t.Errorf("usage lacks format %s", name)
		}
	}
	for _, line := range strings.Split(usage(), "\n") {
		if len(line) > 79 {
			t.Errorf("usage line longer than 79: %q", line)
		}
	}
}

// TestParseArgsTakesEveryFlag fails when cli.Flags has a flag parseArgs
// does not handle, by either of its names.
func TestParseArgsTakesEveryFlag(t *testing.T) {
	for _, f := range cli.Flags() {
		names := []string{"--" + f.Long}
		if f.Short != "" {
			names = append(names, "-"+f.Short)
		}
		for _, n := range names {
			args := []string{n}
			if f.Arg != "" {
				args = append(args, "x")
			}
			if _, err := parseArgs(args); err != nil {
				t.Errorf("%q: %v", args, err)
			}
		}
	}
}
