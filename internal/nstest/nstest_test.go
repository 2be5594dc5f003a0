package nstest

import "testing"

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
