package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cxloop/cxloop/internal/metricsource/promtest"
)

// TestExampleAlertsAreValid: the PrometheusRule that operations.md offers
// loads in Prometheus (promtool check rules), and every metric its
// expressions name is one cxloop, controller-runtime or Prometheus exports,
// so that a renamed metric cannot leave an alert that never fires.
func TestExampleAlertsAreValid(t *testing.T) {
	raw, err := os.ReadFile("operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var rule string
	for _, block := range strings.Split(string(raw), "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if strings.Contains(block, "kind: PrometheusRule") {
			rule = block
		}
	}
	if rule == "" {
		t.Fatal("operations.md offers no PrometheusRule")
	}
	var pr struct {
		Spec struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert string `json:"alert"`
					Expr  string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict([]byte(rule), &pr); err != nil {
		// Strict about the fields decoded above only: the rest is Prometheus's.
		if err := yaml.Unmarshal([]byte(rule), &pr); err != nil {
			t.Fatalf("the PrometheusRule is not YAML: %v", err)
		}
	}

	exported := cxloopMetrics(t)
	for _, m := range []string{"up", "leader_election_master_status", "controller_runtime_reconcile_errors_total"} {
		exported[m] = true // Prometheus's own, controller-runtime's
	}
	alerts := 0
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			alerts++
			for _, m := range metricNames(r.Expr) {
				if !exported[m] {
					t.Errorf("alert %s uses %s, which nothing exports", r.Alert, m)
				}
			}
		}
	}
	if alerts == 0 {
		t.Fatal("the PrometheusRule has no alerts")
	}

	// promtool checks the groups as a rules file.
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(rule), &doc); err != nil {
		t.Fatal(err)
	}
	groups, _ := yaml.Marshal(doc["spec"])
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, groups, 0o600); err != nil {
		t.Fatal(err)
	}
	_, promtool, err := promtest.Binaries()
	if err != nil {
		if os.Getenv(promtest.EnvRequire) != "" {
			t.Fatalf("%v, and %s is set", err, promtest.EnvRequire)
		}
		t.Skipf("not checking the alerts with promtool: %v", err)
	}
	out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	t.Logf("%d alerts; promtool: %s", alerts, strings.TrimSpace(string(out)))
}

// cxloopMetrics are the metric names cxloop's code registers.
func cxloopMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	re := regexp.MustCompile(`Name:\s*"(cxloop_[a-z_]+)"`)
	for _, dir := range []string{"../controllers", "../internal"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				names[m[1]] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(names) == 0 {
		t.Fatal("found no cxloop metrics in the code")
	}
	return names
}

// metricNames are the series a PromQL expression selects: identifiers
// followed by a label matcher, a range or an operator, leaving out
// PromQL's functions, keywords and label names.
func metricNames(expr string) []string {
	expr = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(expr, "{}")                // label matchers
	expr = regexp.MustCompile(`\b(by|without)\s*\([^)]*\)`).ReplaceAllString(expr, "") // grouping labels
	var out []string
	for _, m := range regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`).FindAllString(expr, -1) {
		if strings.HasSuffix(m, "(") { // a function
			continue
		}
		switch m {
		case "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "bool", "offset":
			continue
		}
		if strings.Contains(m, "_") || m == "up" {
			out = append(out, m)
		}
	}
	return out
}
