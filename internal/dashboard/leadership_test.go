package dashboard

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/phaseview"
)

func TestProgrammeOverview(t *testing.T) {
	j := museum()
	for i, h := range []int32{48, 55, 62} {
		j.Status.History = append(j.Status.History, cxv1.JourneyHistoryPoint{Time: *ts(fmt.Sprintf("2026-0%d-01T09:00:00Z", 6+i)), HealthScore: h})
	}
	body := Render(j, phases(), now)
	section := between(t, body, "## Where the programme stands\n", "## How the personas feel")
	for _, want := range []string{
		"**On track:** 0 · **At risk:** 1 · **Late:** 1 · **Completed:** 1 · **Not started:** 1\n",
		"- 🟠 at risk Improve (quick-wins) since 2026-11-20: 2 closed in the last 28 days (0.5 a week): 3 remaining, projected 2027-01-04, after the deadline 2026-12-31\n",
		"- 🔴 late Perfection (long-term) since 2026-07-01: not started; deadline 2026-06-30 passed\n",
		"Health 48 on 2026-06-01 → 62 on 2026-08-01 (3 recorded changes).\n",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("overview lacks %q:\n%s", want, section)
		}
	}
	// Without history or phases the overview still reads.
	empty := Render(museum(), nil, now)
	if !strings.Contains(empty, "**On track:** 0 · **At risk:** 0 · **Late:** 0") || strings.Contains(empty, "recorded change") || strings.Contains(empty, "## Burn-up") {
		t.Errorf("overview of a journey without phases:\n%s", empty)
	}
}

func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	k := strings.Index(s, to)
	if i < 0 || k < i {
		t.Fatalf("%q … %q not found in:\n%s", from, to, s)
	}
	return s[i:k]
}

func TestBurnupChartBlock(t *testing.T) {
	ps := phases()
	var improve *cxv1.ImprovementPhase
	for i := range ps {
		if ps[i].Name == "quick-wins" && ps[i].Namespace == "culture" {
			improve = &ps[i]
		}
	}
	got := BurnupChart(improve, phaseview.Forecast(improve, now), now)
	want := strings.Join([]string{
		"xychart-beta",
		`    title "Improve quick-wins - at risk"`,
		`    x-axis ["09-01", "09-19", "10-07", "10-25", "11-11", "11-29*", "12-31* deadline", "01-04*"]`,
		`    y-axis "Items" 0 --> 5`,
		"    line [0, 0, 0, 0, 1, 2, 4, 5]",
		"    line [5, 5, 5, 5, 5, 5, 5, 5]",
		"",
	}, "\n")
	if got != want {
		t.Errorf("burn-up chart:\n%s\nwant:\n%s", got, want)
	}
	body := Render(museum(), phases(), now)
	// One chart, for the one active phase of this journey.
	if n := strings.Count(body, "```mermaid\nxychart-beta\n"); n != 1 || !strings.Contains(body, "```mermaid\n"+want+"```\n") {
		t.Errorf("%d burn-up charts in the body:\n%s", n, body)
	}
	if !strings.Contains(body, "Improve (quick-wins): 2 of 5 closed, deadline 2026-12-31, projected 2027-01-04.") {
		t.Errorf("no caption for the chart:\n%s", body)
	}
}

func TestBurnupChartsBounded(t *testing.T) {
	var ps []cxv1.ImprovementPhase
	for i := 0; i < 9; i++ {
		p := phase(fmt.Sprintf("improve-%d", i), cxv1.PhaseImprove, cxv1.PhaseActive, 0, 1, 0)
		p.Status.Items = []cxv1.PhaseItem{{Key: "a", State: cxv1.ItemOpen, OpenedAt: ts("2026-09-01T08:00:00Z")}}
		ps = append(ps, p)
	}
	body := Render(museum(), ps, now)
	if n := strings.Count(body, "xychart-beta"); n != MaxBurnups {
		t.Errorf("%d burn-up charts for 9 active phases, want %d", n, MaxBurnups)
	}
}

func TestXYText(t *testing.T) {
	for in, want := range map[string]string{
		"quick-wins":                     "quick-wins",
		`a "quoted"` + "\nname; x --> y": "a quoted name x -- y",
		"":                               "",
		strings.Repeat("x", 80):          strings.Repeat("x", 60),
	} {
		if got := xyText(in); got != want {
			t.Errorf("xyText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMermaidBlocksParse runs Mermaid's own parser (hack/mermaid, pinned in
// its package-lock.json; `make mermaid-deps` installs it) over every Mermaid
// block of dashboards of several shapes. Without Node or the installed
// parser it is skipped, unless $CXLOOP_REQUIRE_MERMAID is set, as `make test`
// and CI do.
func TestMermaidBlocksParse(t *testing.T) {
	dir := filepath.Join("..", "..", "hack", "mermaid")
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "mermaid")); err != nil || statErr != nil {
		if os.Getenv("CXLOOP_REQUIRE_MERMAID") != "" {
			t.Fatalf("CXLOOP_REQUIRE_MERMAID is set but Node (%v) or hack/mermaid/node_modules (%v) is missing: run make mermaid-deps", err, statErr)
		}
		t.Skip("Node or hack/mermaid/node_modules missing (make mermaid-deps); set CXLOOP_REQUIRE_MERMAID=1 to make this a failure")
	}
	hostile := museum()
	hostile.Name = "journey-title"
	hostile.Spec.Stages[0].Name = "section"
	hostile.Spec.Stages[0].Touchpoints[0].Name = `a: b; c # d %% "e" <f>`
	withHistory := museum()
	withHistory.Status.History = []cxv1.JourneyHistoryPoint{{Time: metav1.NewTime(now.AddDate(0, -3, 0)), HealthScore: 40}, {Time: metav1.NewTime(now), HealthScore: 62}}
	started := phases()
	for i := range started {
		if started[i].Status.State == cxv1.PhasePending {
			started[i].Status.State = cxv1.PhaseActive
			started[i].Status.StartedAt = ts("2026-11-22T08:00:00Z") // today's, a one-day burn-up
		}
	}
	cases := map[string]string{
		"museum":        Render(museum(), phases(), now),
		"hostile-names": Render(hostile, phases(), now),
		"history":       Render(withHistory, phases(), now),
		"started-today": Render(museum(), started, now),
		"late":          Render(museum(), phases(), now.AddDate(0, 3, 0)),
		"years-ahead":   Render(museum(), phases(), now.AddDate(3, 0, 0)),
	}
	var files []string
	tmp := t.TempDir()
	for name, body := range cases {
		f := filepath.Join(tmp, name+".md")
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	out, err := exec.Command(node, append([]string{filepath.Join(dir, "check.mjs")}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("Mermaid's parser refused a block (%v):\n%s", err, out)
	}
	// Every body has its journey diagram and, while a phase is active, a burn-up.
	if n := strings.Count(string(out), ": ok (journey)"); n != len(cases) {
		t.Errorf("%d journey diagrams parsed, want %d:\n%s", n, len(cases), out)
	}
	if n := strings.Count(string(out), ": ok (xychart)"); n < len(cases)-1 {
		t.Errorf("%d burn-up charts parsed, want at least %d:\n%s", n, len(cases)-1, out)
	}
	t.Logf("%s", out)
	_ = time.Now
}
