package conntrack

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"ctq/engine"
	"ctq/lang/ctargs"
)

// deniedSource refuses everything as the kernel refuses a process without
// CAP_NET_ADMIN.
type deniedSource struct{}

func (deniedSource) Scan(context.Context, engine.Table, *engine.KernelFilter, func(*engine.Flow) error) (engine.ScanStats, error) {
	return engine.ScanStats{}, engine.ErrPermission
}
func (deniedSource) Get(context.Context, *engine.Flow) (*engine.Flow, error) {
	return nil, engine.ErrPermission
}
func (deniedSource) Close() error { return nil }
func (deniedSource) Stats(context.Context, engine.Table) ([]engine.CPUStats, error) {
	return nil, engine.ErrPermission
}
func (deniedSource) MaxEntries() (int, error) { return 0, engine.ErrPermission }

func TestProcFallbacks(t *testing.T) {
	proc := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(proc, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sys/net/netfilter/nf_conntrack_count", "25\n")
	write("net/stat/nf_conntrack", "entries  clashres found\n00000019  00000000 0000000a\n00000019  00000001 00000000\n")
	var stdout, stderr bytes.Buffer
	cfg := Config{Stdout: &stdout, Stderr: &stderr, ProcDir: proc,
		OpenLive: func(string) (engine.Source, error) { return deniedSource{}, nil }}
	denied := prefix + "Operation failed: sorry, you must be root or get CAP_NET_ADMIN capability to do this\n"
	rc := Run(context.Background(), &ctargs.Command{Op: ctargs.OpCount, Plan: engine.Plan{Action: engine.ActCount, Limit: -1, Match: none}}, cfg)
	if rc != 1 || stdout.String() != "25\n" || stderr.String() != denied {
		t.Errorf("-C without privileges: rc %d, %q, %q", rc, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	rc = Run(context.Background(), &ctargs.Command{Op: ctargs.OpStats}, cfg)
	want := "cpu=0   \tentries=25 clashres=0 found=10 \ncpu=1   \tentries=25 clashres=1 found=0 \n"
	if rc != 1 || stdout.String() != want || stderr.String() != denied {
		t.Errorf("-S without privileges: rc %d, %q, %q", rc, stdout.String(), stderr.String())
	}
	// Another namespace's procfs is not this one's: no fallback.
	stdout.Reset()
	stderr.Reset()
	cfg.NetNS = "other"
	if rc := Run(context.Background(), &ctargs.Command{Op: ctargs.OpStats}, cfg); rc != 1 || stdout.Len() != 0 {
		t.Errorf("-S in another namespace: rc %d, %q", rc, stdout.String())
	}
}
