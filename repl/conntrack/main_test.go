package conntrack

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/engine/snapshot"
	"ctq/lang/ctargs"
)

// savedTable is a small table in conntrack -o save lines.
var savedTable = []string{
	"-A -t 30 -u SEEN_REPLY -s 192.0.2.1 -d 198.51.100.53 -r 198.51.100.53 -q 192.0.2.1 -p udp --sport 5353 --dport 53 --reply-port-src 53 --reply-port-dst 5353",
	"-A -t 300 -u SEEN_REPLY,ASSURED -s 192.0.2.2 -d 198.51.100.7 -r 198.51.100.7 -q 192.0.2.2 -p tcp --sport 42002 --dport 443 --reply-port-src 443 --reply-port-dst 42002 --state ESTABLISHED",
}

// fixture runs commands against savedTable (a read-only snapshot).
type fixture struct {
	t              *testing.T
	cfg            Config
	stdout, stderr bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	path := filepath.Join(t.TempDir(), "table.save")
	if err := os.WriteFile(path, []byte(strings.Join(savedTable, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t}
	fx.cfg = Config{
		Stdout: &fx.stdout, Stderr: &fx.stderr,
		OpenLive: func(string) (engine.Source, error) { return snapshot.Open(path, nil) },
		Env: &ctargs.Env{
			ProtoByName:   func(string) (int, bool) { return 0, false },
			ProtoByNumber: func(int) (string, bool) { return "", false },
			LabelMap:      func() (map[string]int, error) { return nil, os.ErrNotExist },
		},
	}
	return fx
}

// run runs cmd and returns its exit code; the outputs are in fx.
func (fx *fixture) run(cmd *ctargs.Command) int {
	fx.stdout.Reset()
	fx.stderr.Reset()
	return Run(context.Background(), cmd, fx.cfg)
}

func plan(a engine.Action, match func(*engine.Flow) (bool, error)) engine.Plan {
	return engine.Plan{Action: a, Limit: -1, Match: match}
}

func none(*engine.Flow) (bool, error) { return false, nil }

func TestListFormats(t *testing.T) {
	fx := newFixture(t)
	rc := fx.run(&ctargs.Command{Op: ctargs.OpList, Plan: plan(engine.ActList, nil)})
	if rc != 0 || strings.Count(fx.stdout.String(), "\n") != 2 || !strings.HasPrefix(fx.stdout.String(), "udp      17 ") {
		t.Errorf("-L: rc %d, stdout %q", rc, fx.stdout.String())
	}
	if want := prefix + "2 flow entries have been shown.\n"; fx.stderr.String() != want {
		t.Errorf("-L: stderr %q, want %q", fx.stderr.String(), want)
	}

	xml := ctargs.Output{Spec: format.Spec{Kind: format.KindXML}}
	fx.run(&ctargs.Command{Op: ctargs.OpList, Plan: plan(engine.ActList, nil), Output: xml})
	if out := fx.stdout.String(); !strings.HasPrefix(out, format.XMLHeader) || !strings.HasSuffix(out, "</flow>\n"+format.XMLFooter) {
		t.Errorf("-L -o xml: %q", out)
	}
	fx.run(&ctargs.Command{Op: ctargs.OpList, Plan: plan(engine.ActList, none), Output: xml})
	if fx.stdout.Len() != 0 || fx.stderr.String() != prefix+"0 flow entries have been shown.\n" {
		t.Errorf("-L -o xml of nothing: %q %q", fx.stdout.String(), fx.stderr.String())
	}

	save := ctargs.Output{Spec: format.Spec{Kind: format.KindSave}}
	fx.run(&ctargs.Command{Op: ctargs.OpList, Plan: plan(engine.ActList, nil), Output: save})
	if got := strings.TrimSpace(fx.stdout.String()); !strings.HasPrefix(got, "-A -t ") || strings.Count(got, "\n") != 1 {
		t.Errorf("-L -o save: %q", got)
	}

	ext := ctargs.Output{Spec: format.Spec{Flags: format.FlagExtended | format.FlagID}}
	fx.run(&ctargs.Command{Op: ctargs.OpList, Plan: plan(engine.ActList, nil), Output: ext})
	if !strings.HasPrefix(fx.stdout.String(), "ipv4     2 udp      17 ") {
		t.Errorf("-L -o extended: %q", fx.stdout.String())
	}
}

func TestGet(t *testing.T) {
	fx := newFixture(t)
	key := &engine.Flow{}
	key.SetProto(engine.ProtoTCP)
	key.Family = "ipv4"
	key.Src, key.Dst = mustAddr("192.0.2.2"), mustAddr("198.51.100.7")
	key.Sport, key.Dport = 42002, 443
	p := plan(engine.ActGet, nil)
	p.Key = key
	rc := fx.run(&ctargs.Command{Op: ctargs.OpGet, Plan: p, Output: ctargs.Output{Spec: format.Spec{Kind: format.KindXML}}})
	if out := fx.stdout.String(); rc != 0 || !strings.HasPrefix(out, format.XMLHeader) || strings.Contains(out, format.XMLFooter) {
		t.Errorf("-G -o xml: rc %d, %q (header and no closing tag wanted)", rc, out)
	}
	if fx.stderr.String() != prefix+"1 flow entries have been shown.\n" {
		t.Errorf("-G: stderr %q", fx.stderr.String())
	}
	p.Match = none
	if rc := fx.run(&ctargs.Command{Op: ctargs.OpGet, Plan: p}); rc != 1 || fx.stderr.String() != prefix+"0 flow entries have been shown.\n" {
		t.Errorf("-G filtered out: rc %d, %q", rc, fx.stderr.String())
	}
	key.Sport = 1
	if rc := fx.run(&ctargs.Command{Op: ctargs.OpGet, Plan: p}); rc != 1 || fx.stderr.String() != prefix+"Operation failed: such conntrack doesn't exist\n" {
		t.Errorf("-G of a missing entry: rc %d, %q", rc, fx.stderr.String())
	}
}

func TestFlushMessageOnFailure(t *testing.T) {
	fx := newFixture(t)
	rc := fx.run(&ctargs.Command{Op: ctargs.OpFlush, Plan: engine.Plan{Action: engine.ActFlush}})
	lines := strings.Split(fx.stderr.String(), "\n")
	if rc != 1 || lines[0] != prefix+"connection tracking table has been emptied." || !strings.HasPrefix(lines[1], prefix+"Operation failed: ") {
		t.Errorf("-F on a read-only table: rc %d, %q", rc, fx.stderr.String())
	}
}

func TestMainParse(t *testing.T) {
	fx := newFixture(t)
	main := func(args ...string) int {
		fx.stdout.Reset()
		fx.stderr.Reset()
		return Main(context.Background(), args, fx.cfg)
	}
	if rc := main("-V"); rc != 0 || fx.stdout.String() != "conntrack v1.4.7 (conntrack-tools)\n" || fx.stderr.Len() != 0 {
		t.Errorf("-V: %d %q %q", rc, fx.stdout.String(), fx.stderr.String())
	}
	if rc := main("-L", "-x"); rc != 2 || !strings.HasPrefix(fx.stderr.String(), prefix) || !strings.HasSuffix(fx.stderr.String(), "\n"+tryHelp) {
		t.Errorf("-L -x: %d %q", rc, fx.stderr.String())
	}
	if rc := main("-h"); rc != 0 || !strings.HasPrefix(fx.stdout.String(), ctargs.Usage()) ||
		!strings.Contains(fx.stdout.String(), Differences[0]) || !strings.Contains(fx.stdout.String(), ctargs.Differences[0].Ctq) {
		t.Errorf("-h: %d %q", rc, fx.stdout.String())
	}
	if rc := main(); rc != 0 || fx.stdout.String() != ctargs.Usage() {
		t.Errorf("no command: %d %q", rc, fx.stdout.String())
	}
	if rc := main("-L"); rc != 0 || fx.stderr.String() != prefix+"2 flow entries have been shown.\n" {
		t.Errorf("-L: %d %q", rc, fx.stderr.String())
	}
}

func TestLoad(t *testing.T) {
	fx := newFixture(t)
	dir := t.TempDir()
	file := func(lines ...string) string {
		p := filepath.Join(dir, "load")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	load := func(name string) int {
		fx.stdout.Reset()
		fx.stderr.Reset()
		return Main(context.Background(), []string{"-R", name}, fx.cfg)
	}
	if rc := load(file("-F", "-I -s 192.0.2.1 -d 192.0.2.2 -p tcp --sport 1 --dport 2 -t 10")); rc != 2 || !strings.Contains(fx.stderr.String(), "`--state'") ||
		strings.Contains(fx.stderr.String(), "emptied") {
		t.Errorf("a bad line: rc %d, %q", rc, fx.stderr.String())
	}
	if rc := load(file("  # comment", "", "-L")); rc != 2 || fx.stderr.String() != prefix+"Cannot use command `-L' with --load-file\n"+tryHelp {
		t.Errorf("-L in a load: rc %d, %q", rc, fx.stderr.String())
	}
	missing := filepath.Join(dir, "missing")
	if rc := load(missing); rc != 2 || fx.stderr.String() != prefix+"Failed to open file "+missing+" for reading\n"+tryHelp {
		t.Errorf("a missing file: rc %d, %q", rc, fx.stderr.String())
	}
	fx.cfg.Stdin = strings.NewReader("-F\n-F\n")
	// The first flush fails (a read-only table): the load stops there.
	if rc := load("-"); rc != 1 || strings.Count(fx.stderr.String(), "emptied") != 1 || !strings.Contains(fx.stderr.String(), "Operation failed") {
		t.Errorf("load from stdin: rc %d, %q", rc, fx.stderr.String())
	}
}

func TestErrText(t *testing.T) {
	for _, c := range []struct {
		op    ctargs.Op
		table engine.Table
		err   error
		want  string
	}{
		{ctargs.OpList, 0, engine.ErrPermission, "sorry, you must be root or get CAP_NET_ADMIN capability to do this"},
		{ctargs.OpDelete, 0, syscall.EINVAL, "invalid parameters"},
		{ctargs.OpAdd, 0, syscall.EINVAL, "Invalid argument"},
		{ctargs.OpStats, 0, syscall.EINVAL, "Invalid argument"},
		{ctargs.OpCreate, 0, syscall.EEXIST, "Such conntrack exists, try -U to update"},
		{ctargs.OpCreate, engine.TableExpect, syscall.ENOENT, "master conntrack not found"},
		{ctargs.OpGet, 0, engine.ErrNotFound, "such conntrack doesn't exist"},
		{ctargs.OpDelete, engine.TableExpect, engine.ErrNotFound, "No such file or directory"},
		{ctargs.OpUpdate, 0, syscall.ENOENT, "No such file or directory"},
		{ctargs.OpUpdate, 0, syscall.EBUSY, "Device or resource busy"},
		{ctargs.OpCreate, 0, syscall.ETIME, "conntrack has expired"},
		{ctargs.OpGet, 0, syscall.EAFNOSUPPORT, "protocol not supported"},
		{ctargs.OpList, 0, errnoENOTSUPP, "function not implemented"},
		{ctargs.OpUpdate, 0, syscall.EOPNOTSUPP, "Operation not supported"},
		{ctargs.OpList, 0, errors.New("plain"), "plain"},
	} {
		if got := errText(c.op, c.table, c.err); got != c.want {
			t.Errorf("errText(%v, %v, %v) = %q, want %q", c.op, c.table, c.err, got, c.want)
		}
	}
}

func TestSpecName(t *testing.T) {
	for _, c := range []struct {
		s    format.Spec
		want string
	}{
		{format.Spec{}, "text"},
		{format.Spec{Flags: format.FlagExtended | format.FlagID}, "extended,id"},
		{format.Spec{Kind: format.KindXML, Flags: format.FlagTime}, "xml,timestamp"},
		{format.Spec{Kind: format.KindSave}, "save"},
	} {
		if got := specName(c.s); got != c.want {
			t.Errorf("specName(%+v) = %q, want %q", c.s, got, c.want)
		}
		if s, err := format.Parse(specName(c.s)); err != nil || s != c.s {
			t.Errorf("format.Parse(%q) = %+v, %v", specName(c.s), s, err)
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
