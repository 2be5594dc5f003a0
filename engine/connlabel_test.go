package engine

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseConnlabels(t *testing.T) {
	tests := []struct {
		in      string
		want    map[int]string
		wantErr bool
	}{
		{"0 web\n1 db\n", map[int]string{0: "web", 1: "db"}, false},
		{"# names\n\n  5 vip # a comment\n127 last\n", map[int]string{5: "vip", 127: "last"}, false},
		{"128 toobig\n", nil, true},
		{"x web\n", nil, true},
		{"1 two words\n", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseConnlabels(strings.NewReader(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.in, got, tt.want)
		}
	}
}
