package format

import (
	"strings"
	"testing"
)

func TestParseNames(t *testing.T) {
	tests := []struct {
		name string
		want Spec
		err  string
	}{
		{"text", Spec{Kind: KindText}, ""},
		{"Extended, ID", Spec{Kind: KindText, Flags: FlagExtended | FlagID}, ""},
		{"xml,ktimestamp", Spec{Kind: KindXML, Flags: FlagKTimestamp}, ""},
		{"xml,text", Spec{Kind: KindXML}, ""},
		{"labels,timestamp", Spec{Kind: KindText, Flags: FlagTime}, ""},
		{" json ", Spec{Kind: KindJSON}, ""},
		{"table", Spec{Kind: KindTable}, ""},
		{"json,id", Spec{}, `"json,id": json cannot be combined`},
		{"yaml", Spec{}, "valid: text, extended, id, ktimestamp, labels, xml, save, json, csv, table,"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.name)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
	for _, n := range Names() {
		if _, err := Parse(n); err != nil {
			t.Errorf("Names has %q, Parse: %v", n, err)
		}
	}
	if Summary("json") == "" || Summary("id") != "" || Summary("yaml") != "" {
		t.Error("Summary: json has none, or id or yaml has one")
	}
}
