package daemon

import (
	"fmt"
	"log/slog"
	"log/syslog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ctq/sync/config"
)

func TestLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var stderr strings.Builder
	l, err := openLog(&config.General{LogFile: path}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	l.log(slog.LevelInfo, "started")
	l.log(slog.LevelWarn, "slow")
	l.log(slog.LevelError, "broken")
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(fmt.Sprintf(`^(\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] \(pid=%d\) \[(notice|WARNING|ERROR)\] \w+\n){3}$`, os.Getpid()))
	if !re.Match(b) || !strings.Contains(string(b), "[WARNING] slow\n") || !strings.Contains(string(b), "[ERROR] broken\n") {
		t.Errorf("log file:\n%s", b)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr besides a LogFile: %q", stderr.String())
	}
}

func TestLogStderr(t *testing.T) {
	var stderr strings.Builder
	l, err := openLog(&config.General{}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	l.log(slog.LevelInfo, "hello")
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	if got := stderr.String(); !strings.HasPrefix(got, "ctq sync: [") || !strings.HasSuffix(got, "[notice] hello\n") {
		t.Errorf("stderr: %q", got)
	}
}

func TestSyslogFacility(t *testing.T) {
	for name, want := range map[string]syslog.Priority{
		"daemon": syslog.LOG_DAEMON, "local0": syslog.LOG_LOCAL0, "local7": syslog.LOG_LOCAL7, "bogus": syslog.LOG_DAEMON,
	} {
		if got := syslogFacility(name); got != want {
			t.Errorf("syslogFacility(%q) = %v, want %v", name, got, want)
		}
	}
}
