package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseAuthKey(t *testing.T) {
	const udp = "Sync {\n UDP {\n IPv4_address 192.0.2.1\n IPv4_Destination_Address 192.0.2.2\n Port 3780\n"
	key := strings.Repeat("0f", MinAuthKey)
	tests := []struct {
		name, text string
		want       []byte
		wantLine   int
		wantErr    string
	}{
		{"none", udp + "} }", nil, 0, ""},
		{"hex", udp + " AuthKey " + key + "\n} }", bytes.Repeat([]byte{0x0f}, MinAuthKey), 6, ""},
		{"upper case", udp + " AuthKey " + strings.ToUpper(strings.Repeat("ab", 20)) + "\n} }",
			bytes.Repeat([]byte{0xab}, 20), 6, ""},
		{"not hex", udp + " AuthKey secretsecretsecretsecretsecret12\n} }", nil, 0,
			"x.conf:6: AuthKey: bad value: want hex digits"},
		{"odd digits", udp + " AuthKey " + key + "0\n} }", nil, 0,
			"x.conf:6: AuthKey: bad value: want hex digits"},
		{"short", udp + " AuthKey " + key[2:] + "\n} }", nil, 0,
			"x.conf:6: AuthKey: a key of 15 bytes: want at least 16 (32 hex digits)"},
		{"missing", udp + " AuthKey\n} }", nil, 0, "x.conf:6: AuthKey: missing value"},
		{"tcp", "Sync {\n TCP {\n AuthKey " + key + "\n} }", nil, 0,
			"x.conf:3: AuthKey: only UDP and Multicast links can be authenticated"},
		{"twice", udp + " AuthKey " + key + "\n AuthKey " + key + "\n} }", nil, 0,
			"x.conf:7: AuthKey given twice (first at line 6)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("x.conf", []byte(tt.text))
			if tt.wantErr != "" {
				var cerr *Error
				if !errors.As(err, &cerr) || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l := c.Sync.Links[0]
			if !bytes.Equal(l.AuthKey, tt.want) || l.AuthKeyLine != tt.wantLine {
				t.Fatalf("key %x line %d, want %x line %d", l.AuthKey, l.AuthKeyLine, tt.want, tt.wantLine)
			}
		})
	}
}
