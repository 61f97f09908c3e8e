package statuspage

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
)

func TestAPIJourneys(t *testing.T) {
	res, body := get(t, newHandler(fixtures()), http.MethodGet, "/api/v1/journeys")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var doc apiDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Programme
	if p.Phases != 5 || p.AtRisk != 1 || p.Late != 1 || p.NotStarted != 2 || p.Completed != 1 || p.OnTrack != 0 {
		t.Errorf("programme %+v, want 5 phases: 1 at risk, 1 late, 2 not started, 1 completed", p)
	}
	if len(p.NeedAttention) != 2 || p.NeedAttention[0] != (apiAttention{"culture/museum-visit", "quick-wins", burnup.AtRisk, "2026-11-16"}) ||
		p.NeedAttention[1] != (apiAttention{"transport/harbour-ferry", "ferry-quick-wins", burnup.Late, "2026-10-02"}) {
		t.Errorf("need attention: %+v", p.NeedAttention)
	}
	if len(doc.Journeys) != 2 || doc.Journeys[0].Name != "museum-visit" {
		t.Fatalf("journeys %+v", doc.Journeys)
	}
	m := doc.Journeys[0]
	if len(m.History) != 26 || m.History[0].HealthScore != 48 || m.History[len(m.History)-1].HealthScore != 60 {
		t.Errorf("history: %d points from %+v", len(m.History), m.History)
	}
	if e := m.Emotions; len(e) != 7 || e[0].Persona != "family" || e[0].Stage != "orientation" || e[0].Touchpoint != "website" || e[0].AsIs != -1 || e[0].ToBe == nil || *e[0].ToBe != 1 || e[1].ToBe != nil {
		t.Errorf("emotions %+v", m.Emotions)
	}
	var improve *apiPhase
	for i := range m.Phases {
		if m.Phases[i].Name == "quick-wins" {
			improve = &m.Phases[i]
		}
	}
	if improve == nil || improve.Schedule != burnup.AtRisk || improve.ProjectedCompletion != "2027-02-15" || improve.Planned != 10 || improve.Closed != 4 ||
		len(improve.Burnup) != 6 || improve.Burnup[4].Closed != 4 || improve.ClosedPerWeek != 0.5 {
		t.Errorf("Improve phase %+v", improve)
	}
	if m.Phases[2].Schedule != burnup.NotStarted || m.Phases[2].State != "Pending" || len(m.Phases[2].Burnup) != 0 {
		t.Errorf("Pending phase %+v", m.Phases[2])
	}
	if strings.Contains(body, "super-secret-github-token") {
		t.Error("the JSON shows the secret's name")
	}

	res, body = get(t, newHandler(fixtures()), http.MethodGet, "/api/v1/journeys/transport/harbour-ferry")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"schedule": "Late"`) || strings.Contains(body, "museum-visit") {
		t.Errorf("one journey: %d %s", res.StatusCode, body)
	}
	if res, _ := get(t, newHandler(fixtures()), http.MethodGet, "/api/v1/journeys/transport/nope"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown journey: %d", res.StatusCode)
	}
}

func TestPendingPhaseReadsNotStarted(t *testing.T) {
	_, body := get(t, newHandler(fixtures()), http.MethodGet, "/")
	museum := between(t, body, `id="journey_culture_museum-visit"`, `</article>`)
	for _, name := range []string{"long-term", "one-to-one"} {
		row := between(t, museum, `data-phase="`+name+`"`, `</tr>`)
		if !strings.Contains(row, `<span class="not-started">not started</span>`) || strings.Contains(row, "<progress") || strings.Contains(row, "100%") {
			t.Errorf("Pending row %s: %s", name, row)
		}
	}
	// A Pending phase with planned work says how much, still without a bar.
	src := fixtures()
	for i := range src.phases {
		if src.phases[i].Name == "long-term" {
			src.phases[i].Status.Progress = cxv1.PhaseProgress{Total: 6, Percent: 0, Planned: 6}
		}
	}
	_, body = get(t, newHandler(src), http.MethodGet, "/")
	row := between(t, body, `data-phase="long-term"`, `</tr>`)
	if !strings.Contains(row, `not started</span> <span class="muted">· 6 planned</span>`) || strings.Contains(row, "<progress") {
		t.Errorf("Pending row with planned work: %s", row)
	}
}

func TestHealthChart(t *testing.T) {
	day := func(d int) metav1.Time { return metav1.NewTime(time.Date(2026, 1, 1+d, 0, 0, 0, 0, time.UTC)) }
	tests := []struct {
		name   string
		points []cxv1.JourneyHistoryPoint
		want   string // the polyline's points
	}{
		{"no history, no chart", nil, ""},
		{"one point: a flat line to now", []cxv1.JourneyHistoryPoint{{Time: day(0), HealthScore: 50}}, "36,81 546,81"},
		// Steps: 0 at day 0, 100 from day 5 on; now is day 10.
		{"steps between points", []cxv1.JourneyHistoryPoint{{Time: day(0), HealthScore: 0}, {Time: day(5), HealthScore: 100}}, "36,146 291,146 291,16 546,16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svg := string(healthChart(tc.points, day(10).Time, time.UTC, true))
			got := ""
			if m := regexp.MustCompile(`<polyline class="health-line" points="([^"]*)"`).FindStringSubmatch(svg); m != nil {
				got = m[1]
			}
			if got != tc.want {
				t.Errorf("points %q, want %q\n%s", got, tc.want, svg)
			}
			if n := strings.Count(svg, `class="health-dot"`); n != len(tc.points) {
				t.Errorf("%d dots for %d points", n, len(tc.points))
			}
			if small := string(healthChart(tc.points, day(10).Time, time.UTC, false)); strings.Contains(small, "health-dot") {
				t.Error("dots on the index's chart")
			}
		})
	}
}

func TestBurnupChart(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	p := burnup.Phase{StartedAt: start, Deadline: burnup.ParseDeadline("2026-03-31"), Items: []burnup.Item{
		{Closed: true, ClosedAt: start.AddDate(0, 0, 3)}, {Closed: true, ClosedAt: start.AddDate(0, 0, 8)}, {}, {},
	}}
	now := start.AddDate(0, 0, 10)
	fc := burnup.Project(p, now, burnup.Options{})
	svg := string(burnupChart(`<b>"x"</b>`, p, fc, now, time.UTC))
	for _, want := range []string{
		`data-phase="&lt;b&gt;&#34;x&#34;&lt;/b&gt;"`, `data-schedule="OnTrack"`,
		`<text class="deadline-label"`, `deadline 2026-03-31`, `<line class="scope"`, `<line class="today"`, `<line class="forecast"`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("burn-up lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<b>") {
		t.Error("a phase name became markup")
	}
	// Not started: no chart. Completed: no today line and no forecast.
	if s := burnupChart("x", burnup.Phase{}, burnup.Forecast{}, now, time.UTC); s != "" {
		t.Errorf("a chart for a phase not started: %s", s)
	}
	p.CompletedAt = start.AddDate(0, 0, 9)
	p.Items[2].Closed, p.Items[2].ClosedAt, p.Items[3].Closed, p.Items[3].ClosedAt = true, start.AddDate(0, 0, 9), true, start.AddDate(0, 0, 9)
	done := string(burnupChart("x", p, burnup.Project(p, now, burnup.Options{}), now, time.UTC))
	if strings.Contains(done, `class="today"`) || strings.Contains(done, `class="forecast"`) || !strings.Contains(done, `data-schedule="Completed"`) {
		t.Errorf("completed burn-up:\n%s", done)
	}
}
