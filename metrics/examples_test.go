package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	rulesFile     = "../examples/prometheus/ctq.rules.yml"
	dashboardFile = "../examples/grafana/ctq.json"
)

// documented returns the metric names docs/metrics.md lists (which
// TestMetricsDocumented holds to what ctq exports).
func documented(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(ctq_[a-z0-9_]+)` \\| (?:counter|gauge) \\|")
	names := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		names[m[1]] = true
	}
	if len(names) == 0 {
		t.Fatal("docs/metrics.md lists no metric")
	}
	return names
}

// envIntegration is internal/nstest's variable (which builds on Linux
// only): "require" turns a skip into a failure.
const envIntegration = "CTQ_INTEGRATION"

var metricRef = regexp.MustCompile(`\bctq_[a-z0-9_]+`)

// checkRefs fails t for every ctq metric expr names that ctq does not
// export.
func checkRefs(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	refs := metricRef.FindAllString(expr, -1)
	if len(refs) == 0 {
		t.Errorf("%s: %q uses no ctq metric", where, expr)
	}
	for _, name := range refs {
		if !known[name] {
			t.Errorf("%s: %q uses %s, which ctq does not export", where, expr, name)
		}
	}
}

// dashboardExprs returns the PromQL of every target of the dashboard's
// panels (rows' nested panels included).
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var dash struct {
		Title  string            `json:"title"`
		UID    string            `json:"uid"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Errorf("%s: no title or uid", dashboardFile)
	}
	exprs := map[string]string{}
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("%s: %v", dashboardFile, err)
			}
			for i, tg := range p.Targets {
				exprs[p.Title+"/"+string(rune('A'+i))] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	if len(exprs) == 0 {
		t.Fatalf("%s: no panel queries anything", dashboardFile)
	}
	return exprs
}

// TestGrafanaDashboard: the dashboard is valid JSON and its queries use
// only metrics ctq exports.
func TestGrafanaDashboard(t *testing.T) {
	known := documented(t)
	for where, expr := range dashboardExprs(t) {
		checkRefs(t, dashboardFile+": "+where, expr, known)
	}
}

// TestAlertRulesMetrics: the alert rules use only metrics ctq exports.
func TestAlertRulesMetrics(t *testing.T) {
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	known := documented(t)
	n := 0
	for line := range strings.Lines(string(b)) {
		if expr, ok := strings.CutPrefix(strings.TrimSpace(line), "expr:"); ok {
			n++
			checkRefs(t, rulesFile, strings.TrimSpace(expr), known)
		}
	}
	if n == 0 {
		t.Errorf("%s: no expr", rulesFile)
	}
}

// promtool returns promtool's path, skipping t without it (failing under
// CTQ_INTEGRATION=require: CI installs the Debian package prometheus).
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err == nil {
		return path
	}
	if os.Getenv(envIntegration) == "require" {
		t.Fatalf("promtool not found (apt-get install prometheus), and %s=require", envIntegration)
	}
	t.Skipf("promtool not found (apt-get install prometheus); skipped (set %s=require to make this a failure)", envIntegration)
	return ""
}

// TestPromtoolCheckRules: promtool accepts the alert rules, and the
// dashboard's queries parse as PromQL (checked as recording rules, with
// Grafana's variables replaced).
func TestPromtoolCheckRules(t *testing.T) {
	bin := promtool(t)
	if out, err := exec.Command(bin, "check", "rules", rulesFile).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules %s: %v\n%s", rulesFile, err, out)
	}
	exprs := dashboardExprs(t)
	keys := make([]string, 0, len(exprs))
	for k := range exprs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vars := strings.NewReplacer("$__rate_interval", "5m", "$instance", ".*")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, k := range keys {
		q, _ := json.Marshal(vars.Replace(exprs[k])) // a JSON string is a YAML string
		b.WriteString("      - record: dashboard:query" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "\n")
		b.WriteString("        expr: " + string(q) + "\n")
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("the dashboard's queries as rules: %v\n%s\n%s", err, out, b.String())
	}
}
