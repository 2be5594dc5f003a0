package ctargs

import (
	"strings"
	"testing"

	"ctq/engine"
)

// FuzzParse parses arbitrary command lines (words separated by NUL
// bytes) and load files, and runs the plans they give on an entry: none
// of it may panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"-L", "-L\x00-p\x00tcp\x00--dport\x0080", "-I\x00-s\x001.1.1.1\x00-d\x002.2.2.2\x00-p\x00tcp\x00-t\x0010\x00--sport\x001\x00--dport\x002\x00--state\x00LISTEN",
		"-U\x00-m\x000x30/0xf0\x00--label-del", "-D\x00-u\x00!ASSURED,UNREPLIED", "-L\x00-Xz", "foo\x00-L\x00-s\x00-Xz",
		"-L\x00-n\x00[2001:db8::1]:80", "-E\x00-e\x00D\x00-o\x00s,xml", "-p\x00tcp\x00-p\x00udp\x00--state\x00X\x00-L",
		"-G\x00-s\x001\x00-d\x0010.1\x00-p\x00icmp\x00--icmp-type\x008\x00--icmp-code\x000", "-L\x00--dst-n=1.2.3.4:8",
		"-I\x00expect\x00-s\x001.1.1.1", "--\x00-L", "-R\x00x", "-L\x00-s\x001.2.3.4/99999999999999999999",
	} {
		f.Add(s)
	}
	tcp := flow(engine.ProtoTCP, "192.0.2.5", 40000, "198.51.100.1", 80)
	f.Fuzz(func(t *testing.T, s string) {
		env := labelEnv()
		args := strings.Split(s, "\x00")
		c, err := Parse(args, env)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%q: error %T", args, err)
			}
		} else {
			g := *tcp
			if c.Plan.Match != nil {
				c.Plan.Match(&g)
			}
			if c.Plan.Change != nil {
				c.Plan.Change(&g)
			}
			if c.Plan.MatchExpect != nil {
				c.Plan.MatchExpect(&engine.Expect{})
			}
			_ = c.HelpText()
		}
		ParseLoad(strings.NewReader(strings.ReplaceAll(s, "\x00", " ")), env)
	})
}
