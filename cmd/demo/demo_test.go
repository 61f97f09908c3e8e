package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/devenv"
	"github.com/cxloop/cxloop/internal/metricsource/promtest"
)

// TestDemo runs the whole demo, as `make demo --keep` would, and checks that
// the story's milestones happened and were told, then that what it points
// at while kept up (status page, local GitHub, kubectl) answers.
func TestDemo(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which prepares kube-apiserver and etcd")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &devenv.SyncBuffer{}
	o := defaultOptions()
	o.StatusAddr = "127.0.0.1:0"
	o.Keep = true
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, o) }()

	// The story ends with the demo kept up.
	deadline := time.After(4 * time.Minute)
	for !strings.Contains(out.String(), "press Ctrl-C to stop") {
		select {
		case err := <-done:
			t.Fatalf("the demo ended before it was kept up: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("the demo did not finish its story in time:\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	text := out.String()
	t.Logf("the demo's output:\n%s", text)

	for _, want := range []string{
		// The map is scored, with its gaps.
		"cxloop scored it: health ",
		"15 touchpoints on 11 channels over 5 stages, 2 personas",
		"The map has 2 gaps:",
		// Discovery opens one issue per gap.
		"Discovery is active and opened 2 issues",
		"Map gap: size pain point parking-signs at road-signage",
		"Map gap: find an owner for touchpoint nearby-restaurant (visit)",
		"labels: cxloop, phase:discovery, stage:visit, customer-journey",
		"Improve, Perfection and Personalization wait (Pending)",
		// The product owner closes a gap's issue and fixes the map.
		"Discovery 1/2 (50%), still Active",
		"the nearby restaurant (visit stage) is owned by Partnerships",
		"the parking-signs pain point",
		"Discovery completed: 2/2 (100%).",
		// Improve opens the quick wins, paced by maxOpenIssues.
		"Improve started and found 4 quick wins. maxOpenIssues is 2, so it opened 2 issues:",
		"website-home: Parking, toilets and playgrounds are three clicks deep",
		"park-app: Trail maps do not work offline",
		"planned, waits for a free slot: trail-markers: Trail markers on the long route are faded",
		"planned, waits for a free slot: website-home: Routes cannot be filtered by length or difficulty",
		// Closing them completes Improve; Perfection starts.
		"Improve completed: 4/4 (100%). At most 2 quick-win issues were open at any moment (maxOpenIssues 2).",
		"Perfection is active and opened 5 issues",
		"0 duplicates",
		// The product owner's board, grouped by phase.
		"The product owner's board (GitHub Project nature-park/1, grouped by Phase, sorted by Impact)",
		"\n  Discovery", "\n  Improve", "\n  Perfection",
		"cxloop keeps its fields (Phase, Stage, Persona, Channel, Impact, Effort, Quick win, Outcome)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	for _, line := range []string{
		`cxloop sees the gap gone from the map and closes #\d+ itself \(as completed\)`,
		`closed #\d+; the webhook told cxloop [\d.]+s later and opened the next one: #\d+ trail-markers`,
		`nature-park-discovery\s+Discovery\s+Completed\s+2/2 \(100%\)`,
		`nature-park-improve\s+Improve\s+Completed\s+4/4 \(100%\)`,
		`nature-park-perfection\s+Perfection\s+Active\s+2/6 \(33%\)\s+AtRisk\s+\d{4}-\d\d-\d\d`,
		`nature-park-personalization\s+Personalization\s+Pending\s+not started\s+NotStarted`,
		`nature-park-improve\s+Improve\s+Completed\s+4/4 \(100%\)\s+Completed`,
		// The Improve phase's parent issue shows its progress on GitHub.
		`GitHub shows the parent issue #\d+ "Improve: quick wins of nature-park-visit" at 2 of 4 done`,
		`GitHub: \d+ phase issues opened under 4 parent issues, 0 duplicates`,
		`Improve: quick wins of nature-park-visit\s+closed\s+4 of 4 sub-issues done`,
		`Personalization: personalized touchpoints of na…\s+open\s+waits, blocked by #\d+`,
		// Weeks pass on the simulated clock, and Perfection's forecast misses its deadline.
		`… 9 days later, on \d{4}-\d\d-\d\d:`,
		`cxloop's forecast \(status.forecast\): AtRisk — 2 closed in the last 1\d days \(0\.\d a week\): 4 remaining, projected \d{4}-\d\d-\d\d, after the deadline`,
	} {
		if !regexp.MustCompile(line).MatchString(text) {
			t.Errorf("the output lacks a line like %s", line)
		}
	}
	// With Debian's prometheus installed (make test requires it), the website's quick
	// win is verified against the backfilled CSAT history.
	if _, _, err := promtest.Binaries(); err == nil || os.Getenv(promtest.EnvRequire) != "" {
		for _, want := range []string{
			"Prometheus: a local Prometheus at http://127.0.0.1:",
			"Touchpoint website-home declares a measure: csat",
			"CSAT in Prometheus: csat improved from 3.2 to 4.4 (higher is better), tolerance 5% — outcome Improved",
			"Verified: improved.** Customers feel the difference at touchpoint **website-home**",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the output lacks %q", want)
			}
		}
	} else {
		t.Logf("prometheus is not installed: the demo ran without measures (%s=1 makes that a failure)", promtest.EnvRequire)
	}
	if m := regexp.MustCompile(`Journey health: (\d+) -> (\d+)`).FindStringSubmatch(text); m == nil {
		t.Error("the output lacks the journey's health before and after")
	} else if before, _ := strconv.Atoi(m[1]); mustAtoi(m[2]) <= before {
		t.Errorf("the journey's health did not improve: %s -> %s", m[1], m[2])
	}
	// The journey's history spans the story: several recorded changes.
	if m := regexp.MustCompile(`Health over time, (\d+) recorded changes`).FindStringSubmatch(text); m == nil || mustAtoi(m[1]) < 5 {
		t.Errorf("the journey's history is too short: %v", m)
	}
	if m := regexp.MustCompile(`(\d+) of (\d+) signed webhooks accepted`).FindStringSubmatch(text); m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("not every webhook was accepted: %v", m)
	}

	// While kept up, the status page, the local GitHub and kubectl answer.
	statusURL := find(t, text, `Status page:\s+(http://\S+)`)
	if body := get(t, statusURL, ""); !strings.Contains(body, "nature-park-visit") {
		t.Errorf("the status page does not show the journey:\n%.500s", body)
	}
	// The journey's page has charts to look at on first view.
	page := get(t, statusURL+"journeys/nature-park/nature-park-visit", "")
	if strings.Contains(text, "csat improved") && !strings.Contains(page, `<td class="verdict good">Improved</td>`) {
		t.Error("the journey's status page does not show the verified outcome")
	}
	for _, want := range []string{`data-chart="health"`, `data-chart="burnup" data-phase="nature-park-perfection" data-schedule="AtRisk"`, `<line class="deadline"`, `<line class="forecast"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the journey's status page lacks %s", want)
		}
	}
	if body := get(t, statusURL+"api/v1/journeys", ""); !strings.Contains(body, `"atRisk": 1`) {
		t.Errorf("the JSON endpoint does not count Perfection at risk:\n%.800s", body)
	}
	issuesURL := find(t, text, `Local GitHub:\s+(http://\S+)`)
	token := find(t, text, `Authorization: Bearer (\S+)'`)
	if body := get(t, issuesURL, ""); !strings.Contains(body, "Map gap: find an owner for touchpoint nearby-restaurant") {
		t.Errorf("the local GitHub's web view does not list the issues:\n%.500s", body)
	}
	boardURL := find(t, text, `(http://\S+/projects/\d+) \(the product owner's board\)`)
	if body := get(t, boardURL, ""); !strings.Contains(body, "Improve: quick wins of nature-park-visit") || !strings.Contains(body, "4 of 4 done") {
		t.Errorf("the local GitHub's board page lacks the Improve parent at 4 of 4 done:\n%.1500s", body)
	}
	apiURL := find(t, text, `(http://\S+issues\?state=all) \(the API`)
	if body := get(t, apiURL, token); !strings.Contains(body, "Map gap: find an owner for touchpoint nearby-restaurant") {
		t.Errorf("the local GitHub's API does not list the issues:\n%.500s", body)
	}
	m := regexp.MustCompile(`kubectl:\s+KUBECONFIG=(\S+) (\S+) get cx -n (\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("the output lacks the kubectl command")
	}
	cmd := exec.Command(m[2], "get", "cx", "-n", m[3])
	cmd.Env = append(os.Environ(), "KUBECONFIG="+m[1])
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "nature-park-perfection") || !strings.Contains(string(got), "nature-park-visit") {
		t.Errorf("kubectl get cx: %v\n%s", err, got)
	}

	// Ctrl-C ends it cleanly.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the demo ended with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the demo did not stop after Ctrl-C")
	}
}

// TestDemoNeedsAssets: without kube-apiserver and etcd the demo says how to run it.
func TestDemoNeedsAssets(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", "")
	err := run(context.Background(), io.Discard, defaultOptions())
	if err == nil || !strings.Contains(err.Error(), "run it with `make demo`") {
		t.Fatalf("want an error that says to run `make demo`, got %v", err)
	}
}

func find(t *testing.T, text, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("the output lacks %s", pattern)
	}
	return m[1]
}

func get(t *testing.T, url, token string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
