package conntrackd

import (
	"slices"
	"strings"
	"testing"

	"ctq/sync/control"
)

func TestParse(t *testing.T) {
	usage := Output{Usage: true}
	errOut := func(msg string) Output { return Output{Level: LevelError, Msg: msg} }
	tests := []struct {
		args []string
		want Command
	}{
		{nil, Command{Mode: ModeRun, Code: -1}},
		{[]string{"-C", "/etc/x.conf", "-d"}, Command{Mode: ModeRun, Background: true, Config: "/etc/x.conf", Code: -1}},
		{[]string{"-d", "-d"}, Command{Mode: ModeRun, Background: true, Code: -1}},
		{[]string{"-c"}, Command{Mode: ModeRequest, Code: control.CodeAllCommit}},
		{[]string{"-c", "ct"}, Command{Mode: ModeRequest, Code: control.CodeCommit}},
		{[]string{"-c", "e"}, Command{Mode: ModeRequest, Code: control.CodeExpCommit}},
		{[]string{"-c", "-C", "f"}, Command{Mode: ModeRequest, Config: "f", Code: control.CodeAllCommit}},
		{[]string{"-i"}, Command{Mode: ModeRequest, Code: control.CodeDumpInternal}},
		{[]string{"-i", "expect", "-x"}, Command{Mode: ModeRequest, Code: control.CodeExpDumpIntXML}},
		{[]string{"-e", "-x"}, Command{Mode: ModeRequest, Code: control.CodeDumpExtXML}},
		{[]string{"-f"}, Command{Mode: ModeRequest, Code: control.CodeAllFlushCache}},
		{[]string{"-f", "int"}, Command{Mode: ModeRequest, Code: control.CodeFlushIntCache}},
		{[]string{"-f", "external"}, Command{Mode: ModeRequest, Code: control.CodeFlushExtCache}},
		{[]string{"-F", "expect"}, Command{Mode: ModeRequest, Code: control.CodeExpFlushMaster}},
		{[]string{"-F"}, Command{Mode: ModeRequest, Code: control.CodeAllFlushMaster}},
		{[]string{"-R", "ct"}, Command{Mode: ModeRequest, Code: control.CodeResyncMaster}},
		{[]string{"-B"}, Command{Mode: ModeRequest, Code: control.CodeSendBulk}},
		{[]string{"-n"}, Command{Mode: ModeRequest, Code: control.CodeRequestDump}},
		{[]string{"-t"}, Command{Mode: ModeRequest, Code: control.CodeResetTimers}},
		{[]string{"-k"}, Command{Mode: ModeRequest, Code: control.CodeKill}},
		{[]string{"-s"}, Command{Mode: ModeRequest, Code: control.CodeStats}},
		{[]string{"-s", "c"}, Command{Mode: ModeRequest, Code: control.CodeStatsCache}},
		{[]string{"-s", ""}, Command{Mode: ModeRequest, Code: control.CodeStatsNetwork}},
		{[]string{"-s", "process"}, Command{Mode: ModeRequest, Code: control.CodeStatsProcess}},
		{[]string{"-s", "mult"}, Command{Mode: ModeRequest, Code: control.CodeStatsLink,
			Out: []Output{{Level: LevelWarning, Msg: "use `link' instead of `multicast' as parameter."}}}},
		{[]string{"-s", "ct"}, Command{Mode: ModeRequest, Code: control.CodeStats}},
		{[]string{"-s", "expect"}, Command{Mode: ModeRequest, Code: control.CodeExpStats}},
		// Only the second character counts.
		{[]string{"xk"}, Command{Mode: ModeRequest, Code: control.CodeKill}},
		{[]string{"-c", "1k"}, Command{Mode: ModeRequest, Code: control.CodeKill}},
		{[]string{"-C"}, Command{Mode: ModeRun, Code: -1, Out: []Output{usage, errOut("Missing config filename")}}},
		// Exits.
		{[]string{"-v", "-Z"}, Command{Mode: ModeExit, Code: -1, Out: []Output{{Version: true}}}},
		{[]string{"-h"}, Command{Mode: ModeExit, Code: -1, Out: []Output{usage}}},
		{[]string{"-Z"}, Command{Mode: ModeExit, Code: -1, Out: []Output{usage, errOut("Unknown option: -Z")}}},
		{[]string{"--help"}, Command{Mode: ModeExit, Code: -1, Out: []Output{usage, errOut("Unknown option: --help")}}},
		{[]string{"-c", "foo"}, Command{Mode: ModeExit, Code: -1, Out: []Output{usage, errOut("Unknown option: foo")}}},
		{[]string{""}, Command{Mode: ModeExit, Code: -1, Out: []Output{usage, errOut("Unknown option: ")}}},
		{[]string{"-x"}, Command{Mode: ModeExit, Exit: 1, Code: -1, Out: []Output{usage, errOut("Invalid parameters")}}},
		{[]string{"-s", "-x"}, Command{Mode: ModeExit, Exit: 1, Code: control.CodeStats, Out: []Output{usage, errOut("Invalid parameters")}}},
		{[]string{"-d", "-c"}, Command{Mode: ModeExit, Exit: 1, Background: true, Code: -1, Out: []Output{usage, errOut("Invalid parameters")}}},
		{[]string{"-c", "-d"}, Command{Mode: ModeExit, Exit: 1, Code: control.CodeAllCommit, Out: []Output{usage, errOut("Invalid parameters")}}},
		{[]string{"-f", "bogus"}, Command{Mode: ModeExit, Exit: 1, Code: -1, Out: []Output{errOut("unknown parameter `bogus' for option `-f'")}}},
		{[]string{"-s", "bogus"}, Command{Mode: ModeExit, Exit: 1, Code: -1, Out: []Output{errOut("unknown parameter `bogus' for option `-s'")}}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := Parse(tt.args)
			if got.Mode != tt.want.Mode || got.Background != tt.want.Background || got.Config != tt.want.Config ||
				got.Code != tt.want.Code || got.Exit != tt.want.Exit || !slices.Equal(got.Out, tt.want.Out) {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.args, *got, tt.want)
			}
		})
	}
}

func TestParseLongConfigName(t *testing.T) {
	got := Parse([]string{"-C", strings.Repeat("a", pathMax+1)})
	if len(got.Config) != pathMax-1 || len(got.Out) != 1 || got.Out[0].Level != LevelWarning {
		t.Errorf("a name of %d bytes: config of %d bytes, output %+v", pathMax+1, len(got.Config), got.Out)
	}
}

// FuzzParse: any command line parses without panic to a consistent
// command: an exit prints something, a request's code is one of
// conntrackd's or, as in conntrackd (-c 0C: the C is -C), unset.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"-C\x00x.conf\x00-d", "-i\x00expect\x00-x", "-s\x00mult", "-c\x001k", "\x00-", "-f\x00bogus"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		cmd := Parse(args)
		switch cmd.Mode {
		case ModeRequest:
			if cmd.Code < -1 || cmd.Code > control.CodeExpDumpExtXML {
				t.Errorf("Parse(%q): request code %d", args, cmd.Code)
			}
		case ModeExit:
			if len(cmd.Out) == 0 {
				t.Errorf("Parse(%q): exits %d without a word", args, cmd.Exit)
			}
		}
		if len(cmd.Config) >= pathMax {
			t.Errorf("Parse(%q): config name of %d bytes", args, len(cmd.Config))
		}
	})
}
