package dashboard

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journeytest"
)

var now = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func i32(v int32) *int32 { return &v }

func ts(s string) *metav1.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	mt := metav1.NewTime(t)
	return &mt
}

func exp(p string, score int32) cxv1.Experience { return cxv1.Experience{Persona: p, Score: &score} }

// museum is a two-persona journey.
func museum() *cxv1.CustomerJourney {
	return &cxv1.CustomerJourney{
		ObjectMeta: metav1.ObjectMeta{Namespace: "culture", Name: "museum-visit"},
		Spec: cxv1.CustomerJourneySpec{
			Owner:       "Visitor services",
			Description: "A family or a student visits the museum, from the website to the follow-up.",
			Personas:    []cxv1.Persona{{Name: "family"}, {Name: "student"}},
			Stages: []cxv1.Stage{
				{Name: "orientation", Touchpoints: []cxv1.Touchpoint{
					{Name: "website", Channel: "web", Experiences: []cxv1.Experience{exp("student", 1), exp("family", -1)}},
					{Name: "social-ad", Channel: "social", Experiences: []cxv1.Experience{exp("family", 0), exp("student", 0)}},
				}},
				{Name: "booking", Touchpoints: []cxv1.Touchpoint{
					{Name: "ticket-shop", Channel: "web", MomentOfTruth: ptr.To(true), Experiences: []cxv1.Experience{exp("family", -2), exp("student", 2)}},
					{Name: "confirmation-mail", Channel: "email"}, // not scored: left out
				}},
				{Name: "arrival", Touchpoints: []cxv1.Touchpoint{ // no score at all: section left out
					{Name: "parking", Channel: "in-person"},
				}},
			},
		},
		Status: cxv1.CustomerJourneyStatus{
			HealthScore:    i32(62),
			Gaps:           []cxv1.Gap{{Key: "a"}, {Key: "b"}, {Key: "c"}},
			ActivePhase:    "quick-wins",
			NextReviewTime: ts("2026-12-01T09:00:00Z"),
		},
	}
}

func phase(name string, typ cxv1.PhaseType, state cxv1.PhaseState, closed, total, pct int32) cxv1.ImprovementPhase {
	p := cxv1.ImprovementPhase{
		ObjectMeta: metav1.ObjectMeta{Namespace: "culture", Name: name},
		Spec:       cxv1.ImprovementPhaseSpec{JourneyRef: cxv1.JourneyReference{Name: "museum-visit"}, Type: typ, Owner: "CX team"},
		Status:     cxv1.ImprovementPhaseStatus{State: state, Progress: cxv1.PhaseProgress{Closed: closed, Total: total, Percent: pct}},
	}
	switch state {
	case cxv1.PhaseActive:
		p.Status.StartedAt = ts("2026-09-01T08:00:00Z")
	case cxv1.PhaseCompleted:
		p.Status.StartedAt, p.Status.CompletedAt = ts("2026-01-05T08:00:00Z"), ts("2026-02-20T08:00:00Z")
	}
	return p
}

func openItem(n int, title, opened string) cxv1.PhaseItem {
	it := cxv1.PhaseItem{Key: "pp/" + title, Title: title, State: cxv1.ItemOpen, Issue: int64(n),
		URL: "https://github.com/acme/cx/issues/" + strconv.Itoa(n)}
	if opened != "" {
		it.OpenedAt = ts(opened)
	}
	return it
}

// phases returns the four phases, deliberately out of order, plus a phase of
// another journey and one of another namespace.
func phases() []cxv1.ImprovementPhase {
	improve := phase("quick-wins", cxv1.PhaseImprove, cxv1.PhaseActive, 4, 10, 40)
	improve.Spec.Budget = "20 person-days"
	improve.Spec.Deadline = "2026-12-31"
	improve.Status.Items = []cxv1.PhaseItem{
		openItem(14, "Show prices on the home page", "2026-10-05T10:00:00Z"),
		openItem(11, "Family ticket in one click", "2026-09-01T08:00:00Z"),
		{Key: "closed", Title: "Closed one", State: cxv1.ItemClosed, Issue: 3, OpenedAt: ts("2026-01-01T00:00:00Z"), ClosedAt: ts("2026-11-10T10:00:00Z")},
		{Key: "closed-too", Title: "Closed two", State: cxv1.ItemClosed, Issue: 4, OpenedAt: ts("2026-09-01T08:00:00Z"), ClosedAt: ts("2026-11-20T10:00:00Z")},
		{Key: "planned", Title: "Planned one", State: cxv1.ItemPlanned},
	}
	// Two closed in the last 28 days: half an item a week; three remaining
	// take six weeks, to 2027-01-04, after the deadline: at risk.
	improve.Status.Forecast = &cxv1.PhaseForecast{Schedule: cxv1.ScheduleAtRisk, Since: ts("2026-11-20T10:00:00Z")}
	perfection := phase("long-term", cxv1.PhasePerfection, cxv1.PhasePending, 0, 0, 0)
	perfection.Spec.Deadline = "2026-06-30" // past, not completed: overdue
	discovery := phase("discovery", cxv1.PhaseDiscovery, cxv1.PhaseCompleted, 12, 12, 100)
	discovery.Spec.Deadline = "2026-03-01" // past but completed: not overdue
	personal := phase("one-to-one", cxv1.PhasePersonalization, cxv1.PhasePending, 0, 5, 0)
	other := phase("other-journey", cxv1.PhaseImprove, cxv1.PhaseActive, 1, 2, 50)
	other.Spec.JourneyRef.Name = "something-else"
	other.Status.Items = []cxv1.PhaseItem{openItem(1, "Not ours", "2020-01-01T00:00:00Z")}
	elsewhere := phase("quick-wins", cxv1.PhaseImprove, cxv1.PhaseActive, 1, 2, 50)
	elsewhere.Namespace = "other-ns"
	return []cxv1.ImprovementPhase{personal, improve, other, perfection, elsewhere, discovery}
}

func TestJourneyDiagramTwoPersonas(t *testing.T) {
	got := JourneyDiagram(museum())
	want := strings.Join([]string{
		"journey",
		"    title museum-visit",
		"    section orientation",
		"      website: 2: family",
		"      website: 4: student",
		"      social-ad: 3: family, student",
		"    section booking",
		"      ticket-shop: 1: family",
		"      ticket-shop: 5: student",
		"",
	}, "\n")
	if got != want {
		t.Fatalf("diagram:\n%s\nwant:\n%s", got, want)
	}
	body := Render(museum(), nil, now)
	if !strings.Contains(body, "```mermaid\n"+want+"```\n") {
		t.Fatalf("body lacks the fenced diagram:\n%s", body)
	}
}

func TestMermaidScore(t *testing.T) {
	for _, tc := range []struct {
		score int32
		want  int
	}{{-2, 1}, {-1, 2}, {0, 3}, {1, 4}, {2, 5}, {-7, 1}, {9, 5}} {
		if got := MermaidScore(tc.score); got != tc.want {
			t.Errorf("MermaidScore(%d) = %d, want %d", tc.score, got, tc.want)
		}
	}
}

func TestUnscoredOmitted(t *testing.T) {
	j := museum()
	d := JourneyDiagram(j)
	for _, absent := range []string{"confirmation-mail", "parking", "arrival"} {
		if strings.Contains(d, absent) {
			t.Errorf("unscored %q is in the diagram:\n%s", absent, d)
		}
	}
	// A persona scored nowhere shows nowhere.
	j.Spec.Personas = append(j.Spec.Personas, cxv1.Persona{Name: "tourist"})
	if strings.Contains(JourneyDiagram(j), "tourist") {
		t.Error("unscored persona tourist is in the diagram")
	}
	// Nothing scored at all: no diagram, a sentence instead.
	for si := range j.Spec.Stages {
		for ti := range j.Spec.Stages[si].Touchpoints {
			j.Spec.Stages[si].Touchpoints[ti].Experiences = nil
		}
	}
	if d := JourneyDiagram(j); d != "" {
		t.Errorf("diagram of an unscored journey = %q, want empty", d)
	}
	body := Render(j, nil, now)
	if strings.Contains(body, "```mermaid") || !strings.Contains(body, "No persona has been scored") {
		t.Errorf("unscored journey body:\n%s", body)
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		pct  int32
		want string
	}{
		{0, "░░░░░░░░░░ 0%"},
		{40, "▓▓▓▓░░░░░░ 40%"},
		{45, "▓▓▓▓░░░░░░ 45%"},
		{99, "▓▓▓▓▓▓▓▓▓░ 99%"},
		{100, "▓▓▓▓▓▓▓▓▓▓ 100%"},
		{-5, "░░░░░░░░░░ 0%"},
		{250, "▓▓▓▓▓▓▓▓▓▓ 100%"},
	} {
		if got := ProgressBar(tc.pct); got != tc.want {
			t.Errorf("ProgressBar(%d) = %q, want %q", tc.pct, got, tc.want)
		}
	}
}

func TestPhaseTable(t *testing.T) {
	body := Render(museum(), phases(), now)
	wantRows := []string{
		"| Phase | Name | State | Owner | Budget | Deadline | Progress | Closed | Schedule |",
		"| Discovery | discovery | Completed | CX team | — | 2026-03-01 | ▓▓▓▓▓▓▓▓▓▓ 100% | 12/12 | ✅ completed |",
		"| Improve | quick-wins | Active | CX team | 20 person-days | 2026-12-31 | ▓▓▓▓░░░░░░ 40% | 4/10 | 🟠 at risk, projected 2027-01-04 |",
		// Pending reads "not started", never a bar: 0/0 is not done.
		"| Perfection | long-term | Pending | CX team | — | 2026-06-30 ⚠️ overdue | not started | 0/0 | 🔴 late |",
		"| Personalization | one-to-one | Pending | CX team | — | — | not started | 0/5 | ⚪ not started |",
	}
	last := -1
	for _, row := range wantRows {
		i := strings.Index(body, row+"\n")
		if i < 0 {
			t.Fatalf("body lacks row\n%s\nbody:\n%s", row, body)
		}
		if i <= last {
			t.Errorf("row out of order: %s", row)
		}
		last = i
	}
	for _, notOurs := range []string{"other-journey", "Not ours", "| 1/2 |"} {
		if strings.Contains(body, notOurs) {
			t.Errorf("body shows %q, which belongs to another journey", notOurs)
		}
	}
	if !strings.Contains(body, "| 🟡 62/100 | 3 | Improve (quick-wins) | 2026-12-01 09:00 UTC |") {
		t.Errorf("overview row missing:\n%s", body)
	}
}

func TestOverdue(t *testing.T) {
	p := phase("p", cxv1.PhaseImprove, cxv1.PhaseActive, 0, 0, 0)
	for _, tc := range []struct {
		deadline string
		state    cxv1.PhaseState
		now      time.Time
		want     bool
	}{
		{"2026-11-23", cxv1.PhaseActive, time.Date(2026, 11, 23, 23, 59, 0, 0, time.UTC), false}, // the day itself
		{"2026-11-23", cxv1.PhaseActive, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), true},
		{"2026-11-23", cxv1.PhaseCompleted, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"", cxv1.PhaseActive, now, false},
		{"soon", cxv1.PhaseActive, now, false},
	} {
		p.Spec.Deadline, p.Status.State = tc.deadline, tc.state
		if got := Overdue(&p, tc.now); got != tc.want {
			t.Errorf("Overdue(%q, %s, %s) = %v, want %v", tc.deadline, tc.state, tc.now, got, tc.want)
		}
	}
}

func TestQuickWinsOrderAndLimit(t *testing.T) {
	ps := phases()
	var improve *cxv1.ImprovementPhase
	for i := range ps {
		if ps[i].Name == "quick-wins" && ps[i].Namespace == "culture" {
			improve = &ps[i]
		}
	}
	improve.Status.Items = append(improve.Status.Items,
		openItem(20, "Undated", ""),
		openItem(15, "Third", "2026-10-06T00:00:00Z"),
		openItem(16, "Fourth", "2026-10-07T00:00:00Z"),
		openItem(17, "Fifth", "2026-10-08T00:00:00Z"),
		openItem(18, "Sixth", "2026-10-09T00:00:00Z"),
	)
	// An open item of a Perfection phase is no quick win.
	for i := range ps {
		if ps[i].Name == "long-term" {
			ps[i].Status.Items = []cxv1.PhaseItem{openItem(2, "Long haul", "2025-01-01T00:00:00Z")}
		}
	}
	body := Render(museum(), ps, now)
	sec := body[strings.Index(body, "## Oldest open quick wins"):]
	want := "## Oldest open quick wins\n\n" +
		"1. [#11](https://github.com/acme/cx/issues/11) Family ticket in one click — opened 2026-09-01\n" +
		"2. [#14](https://github.com/acme/cx/issues/14) Show prices on the home page — opened 2026-10-05\n" +
		"3. [#15](https://github.com/acme/cx/issues/15) Third — opened 2026-10-06\n" +
		"4. [#16](https://github.com/acme/cx/issues/16) Fourth — opened 2026-10-07\n" +
		"5. [#17](https://github.com/acme/cx/issues/17) Fifth — opened 2026-10-08\n\n"
	if !strings.HasPrefix(sec, want) {
		t.Fatalf("quick wins:\n%s\nwant:\n%s", sec, want)
	}
	for _, absent := range []string{"Sixth", "Undated", "Long haul", "Closed one", "Planned one"} {
		if strings.Contains(body, absent) {
			t.Errorf("body lists %q", absent)
		}
	}
	// Undated items come last.
	all := OldestQuickWins([]*cxv1.ImprovementPhase{improve}, -1)
	if got := all[len(all)-1].Item.Title; got != "Undated" {
		t.Errorf("last quick win = %q, want Undated", got)
	}
	// None open.
	if body := Render(museum(), nil, now); !strings.Contains(body, "_No quick win is open._") {
		t.Errorf("no-quick-win sentence missing:\n%s", body)
	}
}

func TestDeterministic(t *testing.T) {
	a := Render(museum(), phases(), now)
	b := Render(museum(), phases(), now)
	if a != b {
		t.Fatal("two renders of the same input differ")
	}
	// The order of the phases does not matter.
	ps := phases()
	for i, k := 0, len(ps)-1; i < k; i, k = i+1, k-1 {
		ps[i], ps[k] = ps[k], ps[i]
	}
	if c := Render(museum(), ps, now); c != a {
		t.Errorf("reversed phases changed the body:\n%s\nvs\n%s", c, a)
	}
	// Nor the order of experiences within a touchpoint.
	j := museum()
	e := j.Spec.Stages[0].Touchpoints[0].Experiences
	e[0], e[1] = e[1], e[0]
	if c := Render(j, phases(), now); c != a {
		t.Error("reordered experiences changed the body")
	}
	// The clock only matters when a deadline passes: a later time the same
	// day, or a month later with no new deadline passed, changes nothing.
	if c := Render(museum(), phases(), now.Add(10*time.Hour)); c != a {
		t.Error("a later time the same day changed the body")
	}
	if c := Render(museum(), phases(), now.AddDate(0, 0, 40)); c == a {
		t.Error("expected the Improve phase to turn overdue after its deadline")
	}
	// No age, nothing relative.
	for _, rel := range []string{" ago", "days old"} {
		if strings.Contains(a, rel) {
			t.Errorf("body holds relative time %q", rel)
		}
	}
}

func TestHostileText(t *testing.T) {
	j := museum()
	j.Spec.Owner = "<script>alert(1)</script> @everyone"
	j.Spec.Description = "# Pwned\n<img src=x onerror=alert(1)> cc @ceo see #1 & | col"
	j.Spec.Personas[0].Name = "fam:ily;#x"
	for si := range j.Spec.Stages {
		for ti := range j.Spec.Stages[si].Touchpoints {
			for ei, e := range j.Spec.Stages[si].Touchpoints[ti].Experiences {
				if e.Persona == "family" {
					j.Spec.Stages[si].Touchpoints[ti].Experiences[ei].Persona = "fam:ily;#x"
				}
			}
		}
	}
	j.Spec.Stages[0].Touchpoints[0].Name = "web: site; <b>x</b>\nsection evil"
	j.Spec.Stages[1].Name = "title hijack"
	j.Spec.Stages[1].Touchpoints[0].Name = "journey-ticket"
	ps := phases()
	for i := range ps {
		if ps[i].Name == "quick-wins" && ps[i].Namespace == "culture" {
			ps[i].Spec.Owner = "@octocat | <i>team</i>"
			ps[i].Status.Items[0].Title = "Fix [it](javascript:alert(1)) @everyone `code` <script>"
			ps[i].Status.Items[0].URL = "javascript:alert(1)"
		}
	}
	body := Render(j, ps, now)
	for _, bad := range []string{"<script>", "<img", "<b>", "<i>", "@everyone", "@ceo", "@octocat", "#1 ", "it](javascript", "\n# Pwned"} {
		if strings.Contains(body, bad) {
			t.Errorf("body contains %q:\n%s", bad, body)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; @\u200deveryone",
		`\# Pwned &lt;img src=x onerror=alert(1)&gt; cc @` + "\u200d" + `ceo see #` + "\u200d" + `1 &amp; \| col`,
		`| @` + "\u200d" + `octocat \| &lt;i&gt;team&lt;/i&gt; |`,
		"#14 Fix \\[it\\](javascript:alert(1)) @\u200deveryone \\`code\\` &lt;script&gt; — opened", // no link: bad URL
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	d := JourneyDiagram(j)
	wantDiagram := strings.Join([]string{
		"journey",
		"    title museum-visit",
		"    section orientation",
		"      web site bx/b section evil: 2: fam ily x",
		"      web site bx/b section evil: 4: student",
		"      social-ad: 3: fam ily x, student",
		"    section · title hijack",
		"      · journey-ticket: 1: fam ily x",
		"      · journey-ticket: 5: student",
		"",
	}, "\n")
	if d != wantDiagram {
		t.Errorf("hostile diagram:\n%s\nwant:\n%s", d, wantDiagram)
	}
	// Every task line of the diagram has exactly two colons.
	for _, l := range strings.Split(strings.TrimSpace(d), "\n")[2:] {
		if strings.HasPrefix(strings.TrimSpace(l), "section ") {
			if strings.Contains(l, ":") {
				t.Errorf("section line with a colon: %q", l)
			}
			continue
		}
		if strings.Count(l, ":") != 2 {
			t.Errorf("task line without exactly two colons: %q", l)
		}
	}
}

func TestHealthText(t *testing.T) {
	for _, tc := range []struct {
		h    *int32
		want string
	}{{nil, "⚪ not scored yet"}, {i32(90), "🟢 90/100"}, {i32(75), "🟢 75/100"}, {i32(50), "🟡 50/100"}, {i32(12), "🔴 12/100"}} {
		if got := HealthText(tc.h); got != tc.want {
			t.Errorf("HealthText = %q, want %q", got, tc.want)
		}
	}
}

func TestReviewOverdueAndUnscheduled(t *testing.T) {
	j := museum()
	j.Status.NextReviewTime = nil
	j.Status.HealthScore = nil
	j.Status.ActivePhase = ""
	j.Status.Conditions = []metav1.Condition{{Type: cxv1.ConditionReviewOverdue, Status: metav1.ConditionTrue}}
	body := Render(j, nil, now)
	if !strings.Contains(body, "| ⚪ not scored yet | 3 | none | not scheduled ⚠️ previous review still open |") {
		t.Errorf("overview:\n%s", body)
	}
	if !strings.Contains(body, "_No improvement phase has been declared") {
		t.Errorf("missing no-phase sentence:\n%s", body)
	}
	if Render(nil, nil, now) != "" {
		t.Error("Render(nil) should be empty")
	}
}

// TestLargeMapFits checks that the largest map the API admits (12 stages of
// 40 touchpoints, 12 personas who all feel differently) still gives a body
// within GitHub's limit with a closed diagram: one task per touchpoint with
// the personas' mean feeling.
func TestLargeMapFits(t *testing.T) {
	j := museum()
	personas := journeytest.Names("persona-with-a-long-name-%02d", 12)
	largest := journeytest.New("", "", journeytest.Personas("", personas...), journeytest.Stages(journeytest.Names("stage-%02d", 12)...),
		journeytest.Touchpoints(12*journeytest.MaxPerStage, func(t *cxv1.Touchpoint, at journeytest.Place) {
			t.Name = fmt.Sprintf("a-rather-long-touchpoint-name-%02d-%02d", at.Stage, at.InStage)
			for p, name := range personas {
				t.Experiences = append(t.Experiences, exp(name, int32(p%5-2)))
			}
		}))
	j.Spec.Personas, j.Spec.Stages = largest.Spec.Personas, largest.Spec.Stages
	body := Render(j, phases(), now)
	if n := utf8.RuneCountInString(body); n > 60000 {
		t.Fatalf("body of %d characters", n)
	}
	if n := strings.Count(body, "```"); n%2 != 0 || !strings.Contains(body, "```mermaid\njourney\n") {
		t.Fatalf("diagram fence not closed: %d fences\n%s", n, body[:min(len(body), 1500)])
	}
	if !strings.Contains(body, "each touchpoint shows the mean feeling") {
		t.Error("the mean mode is not explained")
	}
	// Scores 1,2,3,4,5,1,2,3,4,5,1,2 (mapped): mean 33/12 = 2.75 → 3.
	if !strings.Contains(body, "    section stage-00\n      a-rather-long-touchpoint-name-00-00: 3\n      a-rather-long-touchpoint-name-00-01: 3\n") {
		t.Error("mean task lines missing")
	}
	if got := regexp.MustCompile(`(?m)^      a-rather-long-touchpoint-name-\d\d-\d\d: 3$`).FindAllString(body, -1); len(got) != 480 {
		t.Errorf("%d task lines, want 480", len(got))
	}
	// A small map keeps one task per distinct feeling.
	if _, mean := diagram(museum()); mean {
		t.Error("small map drawn with means")
	}
}

// TestPhaseRowLinksTheParentIssue: with parent issues, a phase's name in
// the table carries its parent issue, which GitHub links and shows with its
// sub-issues' progress; without one the name stands alone.
func TestPhaseRowLinksTheParentIssue(t *testing.T) {
	ph := &cxv1.ImprovementPhase{ObjectMeta: metav1.ObjectMeta{Name: "quick-wins"}, Spec: cxv1.ImprovementPhaseSpec{Type: cxv1.PhaseImprove},
		Status: cxv1.ImprovementPhaseStatus{State: cxv1.PhaseActive}}
	if row := phaseRow(ph, now); !strings.Contains(row, "| quick-wins |") {
		t.Errorf("row without a parent: %s", row)
	}
	ph.Status.Parent = &cxv1.PhaseParent{Issue: 42}
	if row := phaseRow(ph, now); !strings.Contains(row, "| quick-wins (#42) |") {
		t.Errorf("row does not link the parent #42: %s", row)
	}
	ph.Status.Parent = &cxv1.PhaseParent{} // attempted, not seen yet
	if row := phaseRow(ph, now); strings.Contains(row, "#") {
		t.Errorf("row links a parent that is not there yet: %s", row)
	}
}
