package repl

import (
	"bytes"
	"io"
	"testing"

	"ctq/engine"
)

func TestWriteStats(t *testing.T) {
	cpus := []engine.CPUStats{
		{CPU: 0, Counters: []engine.StatCounter{{Name: "found", Value: 0}, {Name: "insert", Value: 12}}},
		{CPU: 1, Counters: []engine.StatCounter{{Name: "found", Value: 3}, {Name: "insert", Value: 1234567}}},
	}
	g := &statsGlobals{entries: 7, max: 65536}
	tests := []struct {
		name    string
		write   func(io.Writer, []engine.CPUStats, *statsGlobals) error
		globals *statsGlobals
		want    string
	}{
		{"text", writeStatsText, g,
			"cpu=0   \tfound=0 insert=12 \ncpu=1   \tfound=3 insert=1234567 \nentries=7 max=65536\n"},
		{"text expect", writeStatsText, nil,
			"cpu=0   \tfound=0 insert=12 \ncpu=1   \tfound=3 insert=1234567 \n"},
		{"json", writeStatsJSON, g,
			`{"cpu":0,"found":0,"insert":12}` + "\n" + `{"cpu":1,"found":3,"insert":1234567}` + "\n" + `{"entries":7,"max":65536}` + "\n"},
		{"csv", writeStatsCSV, g,
			"cpu,found,insert,entries,max\n0,0,12,7,65536\n1,3,1234567,7,65536\n"},
		{"csv expect", writeStatsCSV, nil,
			"cpu,found,insert\n0,0,12\n1,3,1234567\n"},
		{"table", writeStatsTable, g,
			"CPU  FOUND   INSERT  ENTRIES    MAX\n" +
				"  0      0       12        7  65536\n" +
				"  1      3  1234567        7  65536\n"},
		{"no cpus", writeStatsCSV, g, "cpu,entries,max\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := cpus
			if tt.name == "no cpus" {
				in = nil
			}
			var b bytes.Buffer
			if err := tt.write(&b, in, tt.globals); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
}
