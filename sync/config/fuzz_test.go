package config

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(pairConf))
	f.Add([]byte(recipeMcastConf))
	f.Add([]byte(fullConf))
	f.Add([]byte("Sync { Mode ALARM { RefreshTime 5 } }"))
	f.Add([]byte("General { Filter { State Ignore { SYN_SENT for TCP } } }"))
	f.Add([]byte("#\n{}}{"))
	f.Add([]byte("Sync { UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 1 AuthKey 000102030405060708090a0b0c0d0e0f } }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.conf", data)
		if err != nil {
			var cerr *Error
			if !errors.As(err, &cerr) || !strings.HasPrefix(err.Error(), "f.conf:") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		if len(c.Sync.Links) > MaxLinks {
			t.Fatalf("%d links", len(c.Sync.Links))
		}
		for _, l := range c.Sync.Links {
			if l.Port <= 0 || l.Port > 65535 || !l.Address.IsValid() {
				t.Fatalf("bad link %+v", l)
			}
		}
	})
}
