package conntrackd

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestConsole(t *testing.T) {
	var out, errs bytes.Buffer
	now := func() time.Time { return time.Date(2026, 12, 7, 9, 5, 1, 0, time.UTC) }
	c := &console{stdout: &out, stderr: &errs, now: now, pid: 42, prog: "conntrackd"}
	c.print([]Output{{Level: LevelNotice, Msg: "hello"}, {Level: LevelError, Msg: "can't connect"}, {Level: LevelWarning, Msg: "hm"}})
	if got, want := out.String(), "[Mon Dec  7 09:05:01 2026] (pid=42) [notice] hello\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := errs.String(), "[Mon Dec  7 09:05:01 2026] (pid=42) [ERROR] can't connect\n[Mon Dec  7 09:05:01 2026] (pid=42) [warning] hm\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

func TestUsage(t *testing.T) {
	u := Usage("/usr/sbin/conntrackd")
	for _, want := range []string{
		"Connection tracking userspace daemon v1.4.7\nUsage: /usr/sbin/conntrackd [commands] [options]\n\nGeneral commands:\n",
		"  -t, reset the kernel timeout (see PurgeTimeout clause)\n\n",
		"exits 1 when ctq's daemon reports that a\nrequest failed",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("usage lacks %q:\n%s", want, u)
		}
	}
	if v := Version(); v != "Connection tracking userspace daemon v1.4.7. Licensed under GPLv2.\n(C) 2006-2009 Pablo Neira Ayuso <pablo@netfilter.org>\n" {
		t.Errorf("version %q", v)
	}
}
