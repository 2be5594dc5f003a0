package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLimitFor(t *testing.T) {
	for _, tt := range []struct{ n, want int }{
		{0, 0},
		{1, 5120},          // 1 + 4096, rounded up to 1024
		{20000, 24576},     // 20000 + 4096
		{200000, 225280},   // 200000 + 25000
		{1000000, 1125376}, // 1000000 + 125000
		{2000000, 2250752}, // 2000000 + 250000
		{262144, 262144 + 32768},
	} {
		if got := limitFor(tt.n); got != tt.want {
			t.Errorf("limitFor(%d) = %d, want %d", tt.n, got, tt.want)
		}
		if got := limitFor(tt.n); got < tt.n || got%1024 != 0 {
			t.Errorf("limitFor(%d) = %d: below n or not a multiple of 1024", tt.n, got)
		}
	}
}

// fakeSysctl is a file standing in for nf_conntrack_max.
func fakeSysctl(t *testing.T, v string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nf_conntrack_max")
	if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFake(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestConnLimit(t *testing.T) {
	path := fakeSysctl(t, "262144\n")
	var log strings.Builder
	l, err := openLimit(path, &log)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		need int
		want string
	}{
		{200000, "262144"},   // fits: untouched
		{1000000, "1125376"}, // raised
		{2000000, "2250752"}, // raised further
		{100000, "262144"},   // back to the value found, never below
		{1000000, "1125376"}, // raised again
	}
	for _, s := range steps {
		if err := l.need(s.need); err != nil {
			t.Fatal(err)
		}
		if got := readFake(t, path); got != s.want {
			t.Errorf("after need(%d): %s, want %s", s.need, got, s.want)
		}
	}
	if err := l.restore(); err != nil {
		t.Fatal(err)
	}
	if got := readFake(t, path); got != "262144" {
		t.Errorf("after restore: %s, want 262144", got)
	}
	// A second restore writes nothing and says nothing.
	before := log.String()
	if err := l.restore(); err != nil {
		t.Fatal(err)
	}
	if log.String() != before {
		t.Errorf("second restore said %q", strings.TrimPrefix(log.String(), before))
	}
	for _, want := range []string{"raised from 262144 to 1125376", "raised from 1125376 to 2250752", "back to 262144", "restored to 262144"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestConnLimitUntouched(t *testing.T) {
	path := fakeSysctl(t, "4000000")
	var log strings.Builder
	l, err := openLimit(path, &log)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.need(2000000); err != nil {
		t.Fatal(err)
	}
	if err := l.restore(); err != nil {
		t.Fatal(err)
	}
	if got := readFake(t, path); got != "4000000" || log.Len() != 0 {
		t.Errorf("a limit already high enough became %s; log %q", got, log.String())
	}
}

func TestConnLimitErrors(t *testing.T) {
	if _, err := openLimit(filepath.Join(t.TempDir(), "missing"), &strings.Builder{}); err == nil {
		t.Error("a missing sysctl opened")
	}
	if _, err := openLimit(fakeSysctl(t, "many"), &strings.Builder{}); err == nil {
		t.Error("a sysctl holding no number opened")
	}
	// A write the kernel does not keep (clamped) is an error.
	dir := t.TempDir()
	path := filepath.Join(dir, "max")
	if err := os.WriteFile(path, []byte("100"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := openLimit(path, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil { // unwritable as a file
		t.Fatal(err)
	}
	if err := l.need(1000000); err == nil {
		t.Error("a failed write raised no error")
	}
	if err := l.restore(); err != nil {
		t.Errorf("restore after a failed raise: %v (nothing was written)", err)
	}
}

func TestHashReport(t *testing.T) {
	got := hashReport(fakeSysctl(t, "262144"), 1000000)
	if !strings.Contains(got, "262144") || !strings.Contains(got, "3.8 entries a bucket") {
		t.Errorf("hashReport = %q", got)
	}
}
