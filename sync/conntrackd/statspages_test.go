package conntrackd

import (
	"strings"
	"testing"
	"time"
)

// The pages of an idle statistics-mode node, as conntrackd 1.4.7 printed
// them (conntrackd -C stats.conf -s, -s cache, -s runtime).
func TestStatsPages(t *testing.T) {
	var c statsCounters
	want := "cache stats:\ncurrent active connections:\t           0\n" +
		"connections created:\t\t           0\tfailed:\t           0\n" +
		"connections updated:\t\t           0\tfailed:\t           0\n" +
		"connections destroyed:\t\t           0\tfailed:\t           0\n\n" +
		"traffic processed:\n                   0 Bytes                         0 Pckts\n\n"
	if got := statsPage(&c); got != want {
		t.Errorf("-s:\n%q\nwant\n%q", got, want)
	}
	want = "cache:stats\tactive objects:\t\t           0\n\tactive/total entries:\t\t           0/           0\n" +
		"\tcreation OK/failed:\t\t           0/           0\n\t\tno memory available:\t           0\n" +
		"\t\tno space left in cache:\t           0\n\tupdate OK/failed:\t\t           0/           0\n" +
		"\t\tentry not found:\t           0\n\tdeletion created/failed:\t           0/           0\n" +
		"\t\tentry not found:\t           0\n\n"
	if got := statsCachePage(&c); got != want {
		t.Errorf("-s cache:\n%q\nwant\n%q", got, want)
	}
	got := statsRuntimePage(&c, 90*time.Second)
	for _, w := range []string{"daemon uptime: 1 min\n\nnetlink stats:\n\tevents received:\t                   0\n",
		"\tresync with kernel table:\t           0\n", "\tlocal unknown request:\t\t           0\n\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("-s runtime lacks %q:\n%s", w, got)
		}
	}
}
