package ctargs

import (
	"reflect"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/engine/format"
)

func TestParseLoad(t *testing.T) {
	// Messages and exit codes of conntrack 1.4.7 -R on these files.
	for _, tc := range []struct {
		file     string
		msg      string
		code     int
		warnings []string
		ops      []Op
	}{
		{file: "-D -s 1.1.1.1\n-L\n", msg: "Cannot use command `-L' with --load-file", code: 2},
		{file: "# c\n\n   \t-F\n-I expect -s 1.1.1.1 -d 2.2.2.2 -p udp -t 10 --tuple-src 1.1.1.1 --tuple-dst 2.2.2.2 --mask-src 255.255.255.255 --mask-dst 255.255.255.255 --sport 1 --dport 2 --tuple-port-src 1 --tuple-port-dst 2 --mask-port-src 1 --mask-port-dst 2\n",
			msg: "Cannot use command `-C expect' with --load-file", code: 2},
		{file: "-D -a 1 -s 1.1.1.1\n-D -u S\n-D -s 999.1.1.1\n", msg: "Invalid IP address `999.1.1.1'", code: 2,
			warnings: []string{"WARNING: ignoring -a, deprecated option.", "WARNING: ignoring SRC_NAT, use --src-nat instead"}},
		{file: "foo\n", msg: "Cannot use command `unknown' with --load-file", code: 2},
		{file: "   ", msg: "Cannot use command `unknown' with --load-file", code: 2},
		{file: "-D -s \"1.1.1.1\" -d \"2.2.2.\"2\n", msg: "Invalid IP address `2.2.2.'", code: 2},
		{file: "-D -s \"\"\n", msg: "Invalid IP address `'", code: 2},
		{file: "-D -o xml\n-D -o save\n", msg: "cannot combine save output with any other output type, use -o save only", code: 1},
		{file: "-D -l foo\n", msg: "unknown label 'foo'", code: 2, warnings: []string{"nfct_labelmap_new: No such file or directory"}},
		{file: "-F\n-U -s 1.1.1.1 -m 1 -u ASSURED\n-h\n", msg: "Cannot use command `-h' with --load-file", code: 2},
		{file: "-G -s 1.1.1.1 -d 2.2.2.2 -p tcp\n", msg: "you have to specify `--sport' and `--dport'", code: 2},
		{file: "-D -s \"1.1.1.1\n", ops: []Op{OpDelete}},
		{file: "# only\n\n", ops: nil},
		{file: "", ops: nil},
		{file: "-F\n-A -s 1.1.1.1 -d 2.2.2.2 -p udp -t 10 --sport 1 --dport 2\n-I -s 1.1.1.1 -d 2.2.2.2 -p udp -t 10 --sport 1 --dport 3\n-U -m 1\n-D -p udp\n",
			ops: []Op{OpFlush, OpAdd, OpCreate, OpUpdate, OpDelete}},
	} {
		cmds, err := ParseLoad(strings.NewReader(tc.file), testEnv())
		if tc.msg != "" {
			e, ok := err.(*Error)
			if !ok || e.Msg != tc.msg || e.Code != tc.code || !reflect.DeepEqual(e.Warnings, tc.warnings) {
				t.Errorf("%q: %#v, want %q (%d) after %q", tc.file, err, tc.msg, tc.code, tc.warnings)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.file, err)
			continue
		}
		var ops []Op
		for _, c := range cmds {
			ops = append(ops, c.Op)
		}
		if !reflect.DeepEqual(ops, tc.ops) {
			t.Errorf("%q: ops %v, want %v", tc.file, ops, tc.ops)
		}
	}
}

func TestParseLoadExec(t *testing.T) {
	// conntrack runs the first line, then fails on the second.
	cmds, err := ParseLoad(strings.NewReader("-U -s 1.1.1.1 --mask-src 255.0.0.0\n-D --mask-dst 255.0.0.0\n"), testEnv())
	if err != nil || len(cmds) != 2 {
		t.Fatalf("%v %v", cmds, err)
	}
	if cmds[0].ExecError != nil || cmds[1].ExecError == nil || cmds[1].ExecError.Msg != "Can't use --mask-dst without --dst" || cmds[1].ExecError.Code != 2 {
		t.Errorf("exec errors %v %v", cmds[0].ExecError, cmds[1].ExecError)
	}
	// -o is global: the save of line 2 is how line 1 prints too.
	cmds, err = ParseLoad(strings.NewReader("-D -s 1.1.1.1\n-D -s 2.2.2.2 -o save\n"), testEnv())
	if err != nil || cmds[0].Output.Spec.Kind != format.KindSave {
		t.Errorf("global -o: %v %+v", err, cmds)
	}
	// A delete line is a filter.
	cmds, _ = ParseLoad(strings.NewReader("-D -s 192.0.2.5\n"), testEnv())
	f := flow(engine.ProtoTCP, "192.0.2.5", 1, "192.0.2.6", 2)
	if ok, _ := cmds[0].Plan.Match(f); !ok || cmds[0].Plan.Action != engine.ActDelete {
		t.Errorf("-D line: %+v", cmds[0].Plan)
	}
	// Save lines round trip.
	line := "-A -t 431971 -u SEEN_REPLY,ASSURED -s 192.0.2.1 -d 192.0.2.1 -r 192.0.2.1 -q 192.0.2.1 -p tcp --sport 42002 --dport 80 --reply-port-src 8080 --reply-port-dst 42002 --state ESTABLISHED\n"
	c, err := ParseLine(line, testEnv())
	if err != nil || c.Op != OpAdd || c.Plan.Create[0].ReplySport != 8080 || c.Plan.Create[0].StateNum != 3 {
		t.Errorf("save line: %v %+v", err, c)
	}
	if c, err := ParseLine("  # comment\n", testEnv()); c != nil || err != nil {
		t.Errorf("comment: %v %v", c, err)
	}
}

func TestSplitLoadLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"-D -s 1.1.1.1\n", []string{"-D", "-s", "1.1.1.1"}},
		{"a  \t b", []string{"a", "b"}},
		{`"a b"c`, []string{"a b", "c"}},
		{`"" x`, []string{"", "x"}},
		{`"a\"b"`, []string{`a"b`}},
		{"\"open\n", []string{"open\n"}},
		{`a\b`, []string{`a\b`}},
	} {
		got, err := SplitLoadLine(tc.line)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %q %v, want %q", tc.line, got, err, tc.want)
		}
	}
	if _, err := SplitLoadLine(strings.Repeat("x", 1024)); err == nil || err.Error() != "Parameter too long!" {
		t.Errorf("long parameter: %v", err)
	}
	if _, err := SplitLoadLine(strings.Repeat("x ", 254)); err == nil || err.Error() != "too many arguments" {
		t.Errorf("many arguments: %v", err)
	}
	if got, err := SplitLoadLine(strings.Repeat("x ", 253)); err != nil || len(got) != 253 {
		t.Errorf("253 arguments: %d %v", len(got), err)
	}
	if e := LoadOpenError("-"); e.Msg != "Failed to open file /dev/stdin for reading" || e.Code != 2 {
		t.Errorf("%+v", e)
	}
}

func TestLoadOption(t *testing.T) {
	c, err := Parse([]string{"-R", "file", "ignored"}, testEnv())
	if err != nil || c.Op != OpLoad || c.LoadFile != "file" {
		t.Errorf("-R: %v %+v", err, c)
	}
	if c, err = Parse([]string{"--load-file", "-"}, testEnv()); err != nil || c.LoadFile != "-" {
		t.Errorf("--load-file: %v %+v", err, c)
	}
	for _, args := range [][]string{{"-R"}, {"-L", "-R", "x"}, {"--load-file"}} {
		if _, err := Parse(args, testEnv()); err == nil || err.(*Error).Code != 2 {
			t.Errorf("%q: %v", args, err)
		}
	}
}
