package nstest

import (
	"os"
	"strings"
	"testing"
)

func TestTag(t *testing.T) {
	tests := []struct{ name, want string }{
		{"TestLiveScan/ipv6_source", "testlivescan"},
		{"Test", "test"},
		{"Ü/_-", "test"},
		{"TestA_1", "testa1"},
	}
	for _, tt := range tests {
		if got := tag(tt.name); got != tt.want {
			t.Errorf("tag(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestNamespace creates a namespace in a subtest, loads and lists an
// entry there, and checks that the namespace is gone after the subtest.
func TestNamespace(t *testing.T) {
	var name string
	t.Run("inside", func(t *testing.T) {
		n := New(t)
		name = n.Name()
		if !strings.HasPrefix(name, "ctqt-testnamespac-") || len(name) != len("ctqt-testnamespac-")+6 {
			t.Errorf("namespace name %q", name)
		}
		if _, err := os.Stat("/var/run/netns/" + name); err != nil {
			t.Fatalf("namespace file: %v", err)
		}
		for _, s := range []string{"nf_conntrack_acct", "nf_conntrack_timestamp"} {
			if got := strings.TrimSpace(n.Run(t, "cat", "/proc/sys/net/netfilter/"+s)); got != "1" {
				t.Errorf("%s = %q inside the namespace, want 1", s, got)
			}
		}
		if out := n.Run(t, "ip", "-o", "link", "show", "lo"); !strings.Contains(out, "UP") {
			t.Errorf("lo is not up: %s", out)
		}
		n.Load(t, []string{
			"# comment lines are fine",
			"-I -t 60 -s 198.18.0.1 -d 198.18.0.2 -p udp --sport 1 --dport 2",
		})
		if out := n.Run(t, "conntrack", "-L"); !strings.Contains(out, "src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2") {
			t.Errorf("loaded entry not listed: %q", out)
		}
	})
	if _, err := os.Stat("/var/run/netns/" + name); !os.IsNotExist(err) {
		t.Errorf("namespace %s still exists after its test: %v", name, err)
	}
}
