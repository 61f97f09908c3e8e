package dashboard

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
)

// TestMermaidText: each rule of the documented contract of mermaidText,
// for a task (or a section) and for an actor.
func TestMermaidText(t *testing.T) {
	for _, tt := range []struct {
		name, in   string
		task, actr string
	}{
		{"plain", "ticket-shop", "ticket-shop", "ticket-shop"},
		{"syntax characters become spaces", "a:b;c#d", "a b c d", "a b c d"},
		{"line breaks and tabs become spaces", "a\nb\r\nc\td", "a b c d", "a b c d"},
		{"the comma separates actors only", "Smith, John", "Smith, John", "Smith John"},
		{"HTML and fence characters are dropped", `<b>"x"</b> & ` + "```", "bx/b", "bx/b"},
		{"control characters are dropped", "a\x00b\x1bc\x7fd\u0085e\u2028f\u2029g", "abcdefg", "abcdefg"},
		{"a comment marker is broken", "50%% off", "50% off", "50% off"},
		{"however long", "a%%%%%%b", "a%b", "a%b"},
		{"spaces are collapsed and trimmed", "  a   b  ", "a b", "a b"},
		{"empty", "", "unnamed", "unnamed"},
		{"nothing left", " <>&;:# ", "unnamed", "unnamed"},
		{"a keyword", "section x", "· section x", "· section x"},
		{"a keyword in capitals", "TITLE page", "· TITLE page", "· TITLE page"},
		{"a keyword as a prefix", "journeyman", "· journeyman", "· journeyman"},
		{"accessibility keywords", "accTitle: x", "· accTitle x", "· accTitle x"},
		{"accDescr", "AccDescr", "· AccDescr", "· AccDescr"},
		{"a keyword after the cleaning", ":section", "· section", "· section"},
		{"a keyword inside is fine", "the section", "the section", "the section"},
		{"unicode is kept", "Café ✓ 日本", "Café ✓ 日本", "Café ✓ 日本"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := mermaidTask(tt.in); got != tt.task {
				t.Errorf("mermaidTask(%q) = %q, want %q", tt.in, got, tt.task)
			}
			if got := mermaidText(tt.in, true); got != tt.actr {
				t.Errorf("mermaidText(%q, actor) = %q, want %q", tt.in, got, tt.actr)
			}
		})
	}
}

// mermaidBlocks returns the Mermaid blocks of a body, failing when a fence
// is left open.
func mermaidBlocks(t *testing.T, body string) []string {
	t.Helper()
	var blocks []string
	rest := body
	for {
		i := strings.Index(rest, "```mermaid\n")
		if i < 0 {
			break
		}
		rest = rest[i+len("```mermaid\n"):]
		k := strings.Index(rest, "```\n")
		if k < 0 {
			t.Fatalf("a Mermaid block is never closed:\n%s", rest)
		}
		blocks = append(blocks, rest[:k])
		rest = rest[k+4:]
	}
	if strings.Contains(rest, "```") {
		t.Errorf("a stray fence after the Mermaid blocks:\n%s", rest)
	}
	return blocks
}

// TestHostileNamesKeepTheFencesClosed: whatever the tenant names its
// stages, touchpoints, personas and phases, every Mermaid block of the
// body closes where cxloop closes it, and its lines keep their shape.
func TestHostileNamesKeepTheFencesClosed(t *testing.T) {
	j := museum()
	j.Name = "```\n# injected"
	j.Spec.Stages[0].Name = "```mermaid"
	j.Spec.Stages[0].Touchpoints[0].Name = "x```\n```\n<script>"
	j.Spec.Personas[1].Name = "stu```dent, %%{init: {}}%%"
	for si := range j.Spec.Stages {
		for ti := range j.Spec.Stages[si].Touchpoints {
			for ei := range j.Spec.Stages[si].Touchpoints[ti].Experiences {
				if j.Spec.Stages[si].Touchpoints[ti].Experiences[ei].Persona == "student" {
					j.Spec.Stages[si].Touchpoints[ti].Experiences[ei].Persona = j.Spec.Personas[1].Name
				}
			}
		}
	}
	ps := phases()
	ps[1].Name = "quick```wins\"\n  line [99]"
	ps[1].Spec.Type = "Improve"
	for i := range ps {
		if ps[i].Namespace == "culture" && ps[i].Spec.JourneyRef.Name == "museum-visit" {
			ps[i].Spec.JourneyRef.Name = j.Name
		}
	}
	body := Render(j, ps, now)
	blocks := mermaidBlocks(t, body)
	if len(blocks) != 2 {
		t.Fatalf("%d Mermaid blocks, want the journey and one burn-up", len(blocks))
	}
	for _, b := range blocks {
		if strings.Contains(b, "`") || strings.Contains(b, "<") || strings.Contains(b, "%%") {
			t.Errorf("block holds a backtick, markup or a directive:\n%s", b)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(blocks[0]), "\n")[2:] {
		if !strings.HasPrefix(strings.TrimSpace(l), "section ") && strings.Count(l, ":") != 2 {
			t.Errorf("task line %q does not have two colons", l)
		}
	}
	if n := strings.Count(blocks[1], "line ["); n != 2 {
		t.Errorf("the burn-up has %d lines, want 2:\n%s", n, blocks[1])
	}
	if strings.Contains(body, "\n# injected") {
		t.Error("the journey's name made a heading")
	}
}

func TestScoreGroups(t *testing.T) {
	order := map[string]int{"family": 0, "student": 1}
	for _, tt := range []struct {
		name string
		exps []cxv1.Experience
		want string
	}{
		{"none", nil, ""},
		{"in the order of spec.personas", []cxv1.Experience{exp("student", 1), exp("family", 1)}, "4:family,student"},
		{"a group per score, in the order of its first persona", []cxv1.Experience{exp("student", 2), exp("family", -2)}, "1:family 5:student"},
		{"undeclared personas after the declared, by name", []cxv1.Experience{exp("zed", 0), exp("amy", 0), exp("student", 0)}, "3:student,amy,zed"},
		{"a persona listed twice counts once, first score", []cxv1.Experience{exp("family", 2), exp("family", -2)}, "5:family"},
		{"an experience without a persona is skipped", []cxv1.Experience{exp("", 2), exp("family", 0)}, "3:family"},
		{"no score reads neutral", []cxv1.Experience{{Persona: "family"}}, "3:family"},
		{"scores beyond the scale are clamped", []cxv1.Experience{exp("family", 7), exp("student", 2)}, "5:family,student"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var parts []string
			for _, g := range scoreGroups(tt.exps, order) {
				parts = append(parts, fmt.Sprintf("%d:%s", g.score, strings.Join(g.personas, ",")))
			}
			if got := strings.Join(parts, " "); got != tt.want {
				t.Errorf("groups %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMeanGroup(t *testing.T) {
	g := func(score int, personas ...string) scoreGroup { return scoreGroup{score: score, personas: personas} }
	for _, tt := range []struct {
		name   string
		groups []scoreGroup
		score  int
		n      int
	}{
		{"one group is kept", []scoreGroup{g(2, "a", "b")}, 2, 2},
		{"weighted by personas", []scoreGroup{g(1, "a"), g(5, "b", "c", "d")}, 4, 4},
		{"half rounds up", []scoreGroup{g(1, "a"), g(2, "b")}, 2, 2},
		{"4.5 rounds to 5", []scoreGroup{g(4, "a"), g(5, "b")}, 5, 2},
		{"below half rounds down", []scoreGroup{g(1, "a", "b"), g(2, "c")}, 1, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := meanGroup(tt.groups)
			if len(out) != 1 || out[0].score != tt.score || len(out[0].personas) != tt.n {
				t.Errorf("meanGroup = %+v, want one group of score %d with %d personas", out, tt.score, tt.n)
			}
		})
	}
	if meanGroup(nil) != nil {
		t.Error("no groups gave some")
	}
}

// TestDiagramTooLargeForEvenTheMean: a map whose mean diagram still
// exceeds the bound gets a sentence, never a block cut short.
func TestDiagramTooLargeForEvenTheMean(t *testing.T) {
	j := museum()
	var tps []cxv1.Touchpoint
	for i := 0; i < 600; i++ {
		tps = append(tps, cxv1.Touchpoint{Name: fmt.Sprintf("%03d-%s", i, strings.Repeat("t", 80)), Experiences: []cxv1.Experience{exp("family", 1)}})
	}
	j.Spec.Stages = []cxv1.Stage{{Name: "all", Touchpoints: tps}}
	if d, mean := diagram(j); d != "" || !mean {
		t.Fatalf("diagram of %d characters, mean %v; want none", len(d), mean)
	}
	body := Render(j, nil, now)
	if strings.Contains(body, "```mermaid") || !strings.Contains(body, "_The map is too large to draw here; see the status page or the CustomerJourney._") {
		t.Errorf("body:\n%s", between(t, body, "## How the personas feel", "## Phases"))
	}
	// Just under the bound, the full diagram is drawn.
	j.Spec.Stages[0].Touchpoints = tps[:100]
	if d, mean := diagram(j); d == "" || mean || len(d) > maxDiagramChars {
		t.Errorf("a diagram of %d characters, mean %v", len(d), mean)
	}
}

func TestScheduleText(t *testing.T) {
	for _, tt := range []struct {
		s    burnup.Schedule
		want string
	}{
		{burnup.OnTrack, "🟢 on track"},
		{burnup.AtRisk, "🟠 at risk"},
		{burnup.Late, "🔴 late"},
		{burnup.Completed, "✅ completed"},
		{burnup.NotStarted, "⚪ not started"},
		{burnup.NotEnoughData, "⚪ not enough data"},
		{burnup.NoDeadline, "⚪ no deadline"},
	} {
		if got := scheduleText(tt.s); got != tt.want {
			t.Errorf("scheduleText(%v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestVerdictText(t *testing.T) {
	for v, want := range map[cxv1.Verdict]string{
		cxv1.VerdictImproved: "✅ improved", cxv1.VerdictUnchanged: "➖ unchanged", cxv1.VerdictWorse: "⚠️ worse",
		cxv1.VerdictNoData: "❔ no data", cxv1.VerdictPending: "⏳ pending", "": "⏳ pending", "Bogus": "⏳ pending",
	} {
		if got := verdictText(v); got != want {
			t.Errorf("verdictText(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestQuickWinReferences: the reference of a quick win links only a safe
// URL, names its issue when it has one, and its key when it has no title.
func TestQuickWinReferences(t *testing.T) {
	for _, tt := range []struct {
		name string
		item cxv1.PhaseItem
		want string
	}{
		{"an issue with its URL", cxv1.PhaseItem{Title: "T", Issue: 7, URL: "https://github.com/a/b/issues/7"}, "1. [#7](https://github.com/a/b/issues/7) T — opened date unknown"},
		{"no issue number yet", cxv1.PhaseItem{Title: "T", URL: "https://github.com/a/b/issues/7"}, "1. [issue](https://github.com/a/b/issues/7) T — opened date unknown"},
		{"neither", cxv1.PhaseItem{Title: "T"}, "1. issue T — opened date unknown"},
		{"an unsafe URL is not linked", cxv1.PhaseItem{Title: "T", Issue: 7, URL: "data:text/html,<script>"}, "1. #7 T — opened date unknown"},
		{"no title: the key", cxv1.PhaseItem{Key: "pp/@ops | x", Issue: 7, OpenedAt: ts("2026-02-03T23:30:00-05:00")}, "1. #7 pp/@\u200dops \\| x — opened 2026-02-04"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := phase("quick-wins", cxv1.PhaseImprove, cxv1.PhaseActive, 0, 1, 0)
			tt.item.State = cxv1.ItemOpen
			p.Status.Items = []cxv1.PhaseItem{tt.item}
			body := Render(museum(), []cxv1.ImprovementPhase{p}, now)
			sec := between(t, body, "## Oldest open quick wins\n\n", "<sub>")
			if got := strings.TrimSpace(strings.TrimPrefix(sec, "## Oldest open quick wins")); got != tt.want {
				t.Errorf("quick wins %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOldestQuickWinsTies(t *testing.T) {
	at := ts("2026-10-01T00:00:00Z")
	item := func(key string, issue int64) cxv1.PhaseItem {
		return cxv1.PhaseItem{Key: key, Issue: issue, State: cxv1.ItemOpen, OpenedAt: at}
	}
	b := phase("b", cxv1.PhaseImprove, cxv1.PhaseActive, 0, 0, 0)
	b.Status.Items = []cxv1.PhaseItem{item("z", 2), item("y", 1), item("x", 1)}
	a := phase("a", cxv1.PhaseImprove, cxv1.PhaseActive, 0, 0, 0)
	a.Status.Items = []cxv1.PhaseItem{item("w", 2)}
	var got []string
	for _, w := range OldestQuickWins([]*cxv1.ImprovementPhase{&b, &a}, -1) {
		got = append(got, fmt.Sprintf("%s/%s#%d", w.Phase, w.Item.Key, w.Item.Issue))
	}
	if want := "b/x#1 b/y#1 a/w#2 b/z#2"; strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
	for _, limit := range []int{0, 2} {
		if n := len(OldestQuickWins([]*cxv1.ImprovementPhase{&b, &a}, limit)); n != limit {
			t.Errorf("limit %d gave %d", limit, n)
		}
	}
}

// TestOverviewAndHeader: the header and overview row of journeys with
// missing or hostile fields.
func TestOverviewAndHeader(t *testing.T) {
	for _, tt := range []struct {
		name   string
		edit   func(j *cxv1.CustomerJourney)
		phases []cxv1.ImprovementPhase
		want   []string
		absent []string
	}{
		{"no owner, no description", func(j *cxv1.CustomerJourney) { j.Spec.Owner, j.Spec.Description = "  ", "" }, nil,
			[]string{"# Customer journey: museum-visit\n\n**Owner:** — · **Namespace:** culture\n\n"}, nil},
		{"an active phase that is not among the phases", func(j *cxv1.CustomerJourney) { j.Status.ActivePhase = "gone | <i>" }, nil,
			[]string{"| 🟡 62/100 | 3 | gone \\| &lt;i&gt; | 2026-12-01 09:00 UTC |"}, nil},
		{"a ReviewOverdue that is False adds nothing", func(j *cxv1.CustomerJourney) {
			j.Status.Conditions = []metav1.Condition{{Type: cxv1.ConditionReviewOverdue, Status: metav1.ConditionFalse}}
		}, nil, []string{"| 2026-12-01 09:00 UTC |\n"}, []string{"previous review still open"}},
		{"one recorded change is singular", func(j *cxv1.CustomerJourney) {
			j.Status.History = []cxv1.JourneyHistoryPoint{{Time: *ts("2026-06-01T09:00:00Z"), HealthScore: 40}}
		}, nil, []string{"Health 40 on 2026-06-01 → 40 on 2026-06-01 (1 recorded change).\n"}, nil},
		{"a description with a heading and mentions", func(j *cxv1.CustomerJourney) { j.Spec.Description = "## Big\n@team see #4" }, nil,
			[]string{"\\## Big @\u200dteam see #\u200d4\n\n"}, []string{"\n## Big"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := museum()
			tt.edit(j)
			body := Render(j, tt.phases, now)
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(body, a) {
					t.Errorf("body holds %q", a)
				}
			}
		})
	}
}

// TestBurnupCaptions: a chart for each Active or Suspended phase, none for
// a pending one, and a caption that says what is missing.
func TestBurnupCaptions(t *testing.T) {
	active := phase("quick-wins", cxv1.PhaseImprove, cxv1.PhaseActive, 0, 1, 0)
	active.Status.Items = []cxv1.PhaseItem{{Key: "a", State: cxv1.ItemOpen, OpenedAt: ts("2026-09-01T08:00:00Z")}}
	suspended := active
	suspended.Name = "paused"
	suspended.Status.State = cxv1.PhaseSuspended
	pending := phase("later", cxv1.PhasePerfection, cxv1.PhasePending, 0, 1, 0)
	body := Render(museum(), []cxv1.ImprovementPhase{active, suspended, pending}, now)
	if n := strings.Count(body, "xychart-beta"); n != 2 {
		t.Errorf("%d burn-up charts, want 2 (active and suspended)", n)
	}
	for _, want := range []string{
		"Improve (quick-wins): 0 of 1 closed, no projected date yet. Columns marked *",
		"Improve (paused): 0 of 1 closed, no projected date yet.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, between(t, body, "## Burn-up", "## Oldest"))
		}
	}
	if strings.Contains(body, "(later):") {
		t.Error("a pending phase has a burn-up")
	}
}

// TestOutcomeRows: references, fallbacks and escaping of the outcomes table.
func TestOutcomeRows(t *testing.T) {
	for _, tt := range []struct {
		name string
		item cxv1.PhaseItem
		want string
	}{
		{"no issue: no link even with a URL", cxv1.PhaseItem{Key: "k", Title: "T", URL: "https://github.com/a/b/issues/1"}, "| — | T | m | — | — | ❔ no data |"},
		{"an unsafe URL", cxv1.PhaseItem{Key: "k", Title: "T", Issue: 3, URL: "javascript:x"}, "| #3 | T | m | — | — | ❔ no data |"},
		{"the key without a title", cxv1.PhaseItem{Key: "pp|1", Issue: 3}, "| #3 | pp\\|1 | m | — | — | ❔ no data |"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := phase("quick-wins", cxv1.PhaseImprove, cxv1.PhaseActive, 0, 1, 0)
			tt.item.State = cxv1.ItemClosed
			tt.item.Outcome = &cxv1.ItemOutcome{Measure: "m", Verdict: cxv1.VerdictNoData}
			p.Status.Items = []cxv1.PhaseItem{tt.item}
			body := Render(museum(), []cxv1.ImprovementPhase{p}, now)
			if !strings.Contains(body, tt.want+"\n") {
				t.Errorf("body lacks %q:\n%s", tt.want, between(t, body, "## Did it help?", "<sub>"))
			}
		})
	}
	t.Run("hostile measure and values", func(t *testing.T) {
		p := phase("quick-wins", cxv1.PhaseImprove, cxv1.PhaseActive, 0, 1, 0)
		p.Status.Items = []cxv1.PhaseItem{{Key: "k", Title: "T", State: cxv1.ItemClosed, Issue: 1,
			Outcome: &cxv1.ItemOutcome{Measure: "csat|<b>", Verdict: cxv1.VerdictImproved, Baseline: "1\n| x |", After: "[2](javascript:x)"}}}
		body := Render(museum(), []cxv1.ImprovementPhase{p}, now)
		want := "| #1 | T | csat\\|&lt;b&gt; | 1 \\| x \\| | \\[2\\](javascript:x) | ✅ improved |\n"
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, between(t, body, "## Did it help?", "<sub>"))
		}
	})
}

// TestPhasesOfTheSameType: phases of one type come by name; phases of an
// unknown type come after the method's four.
func TestPhasesOfTheSameType(t *testing.T) {
	b := phase("b-wins", cxv1.PhaseImprove, cxv1.PhaseCompleted, 1, 1, 100)
	a := phase("a-wins", cxv1.PhaseImprove, cxv1.PhaseCompleted, 1, 1, 100)
	odd := phase("aaa-odd", "Experiment", cxv1.PhaseCompleted, 1, 1, 100)
	d := phase("zz-discovery", cxv1.PhaseDiscovery, cxv1.PhaseCompleted, 1, 1, 100)
	var names []string
	for _, p := range journeyPhases(museum(), []cxv1.ImprovementPhase{odd, b, a, d}) {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "zz-discovery,a-wins,b-wins,aaa-odd" {
		t.Errorf("order %s", got)
	}
}
