// Package dashboard renders the body of a journey's dashboard issue: the
// leadership view of a CustomerJourney on GitHub. It shows how each persona
// feels across the stages (a Mermaid journey diagram, which GitHub draws),
// the improvement phases with their progress, the oldest open quick wins,
// the health score, the gaps and the next review.
//
// Render is deterministic: the same journey and phases give a byte-identical
// body, whatever the order of the phases, so the controller edits the issue
// only when its content changes. The clock flags phases past their deadline
// and places today in the burn-up charts and forecasts, all in whole days:
// time alone changes the body at most once a day. Dates are shown, never ages.
package dashboard

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
	"github.com/cxloop/cxloop/internal/markdown"
)

// MaxQuickWins is the most open quick wins the dashboard lists.
const MaxQuickWins = 5

// barCells is the width of the text progress bar.
const barCells = 10

// Render returns the Markdown body of the dashboard issue of journey j.
// phases may hold phases of other journeys: only those in j's namespace whose
// spec.journeyRef names j are shown. now is only used to flag phases past
// their deadline. Every text taken from the custom resources is neutralised:
// no raw HTML, no @mention, no #reference, nothing that breaks a table or the
// Mermaid diagram.
func Render(j *cxv1.CustomerJourney, phases []cxv1.ImprovementPhase, now time.Time) string {
	if j == nil {
		return ""
	}
	var b strings.Builder
	mine := journeyPhases(j, phases)

	fmt.Fprintf(&b, "# Customer journey: %s\n\n", markdown.Line(j.Name))
	if d := markdown.Line(j.Spec.Description); d != "" {
		b.WriteString(d)
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "**Owner:** %s · **Namespace:** %s\n\n", orDash(markdown.Line(j.Spec.Owner)), orDash(markdown.Line(j.Namespace)))

	scheds := schedules(mine, now)
	writeOverview(&b, j, mine)
	writeProgramme(&b, j, scheds)
	writeJourneyDiagram(&b, j)
	writePhases(&b, scheds, now)
	writeBurnups(&b, scheds, now)
	writeQuickWins(&b, mine)
	writeOutcomes(&b, mine)

	b.WriteString("<sub>Kept up to date by cxloop from the CustomerJourney and its ImprovementPhases; edit those, not this issue.</sub>\n")
	return b.String()
}

// journeyPhases returns j's phases in the method's order: Discovery, Improve,
// Perfection, Personalization, then by name.
func journeyPhases(j *cxv1.CustomerJourney, phases []cxv1.ImprovementPhase) []*cxv1.ImprovementPhase {
	var out []*cxv1.ImprovementPhase
	for i := range phases {
		p := &phases[i]
		if p.Namespace == j.Namespace && p.Spec.JourneyRef.Name == j.Name {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		ra, rb := out[a].Spec.Type.Order(), out[b].Spec.Type.Order()
		if ra != rb {
			return ra < rb
		}
		if out[a].Spec.Type != out[b].Spec.Type {
			return out[a].Spec.Type < out[b].Spec.Type
		}
		return out[a].Name < out[b].Name
	})
	return out
}

func writeOverview(b *strings.Builder, j *cxv1.CustomerJourney, phases []*cxv1.ImprovementPhase) {
	next := "not scheduled"
	if t := j.Status.NextReviewTime; t != nil && !t.IsZero() {
		next = formatTime(t.Time)
	}
	if c := meta.FindStatusCondition(j.Status.Conditions, cxv1.ConditionReviewOverdue); c != nil && c.Status == metav1.ConditionTrue {
		next += " ⚠️ previous review still open"
	}
	active := "none"
	if j.Status.ActivePhase != "" {
		active = markdown.Line(j.Status.ActivePhase)
		for _, p := range phases {
			if p.Name == j.Status.ActivePhase && p.Spec.Type != "" {
				active = markdown.Line(string(p.Spec.Type)) + " (" + active + ")"
				break
			}
		}
	}
	b.WriteString("| Health | Gaps | Active phase | Next review |\n")
	b.WriteString("|:--|--:|:--|:--|\n")
	fmt.Fprintf(b, "| %s | %d | %s | %s |\n\n", HealthText(j.Status.HealthScore), len(j.Status.Gaps), active, next)
}

// HealthText shows a health score with a colour band: 🟢 from 75, 🟡 from
// 50, 🔴 below; "not scored yet" when there is none.
func HealthText(h *int32) string {
	if h == nil {
		return "⚪ not scored yet"
	}
	v := *h
	switch {
	case v >= 75:
		return fmt.Sprintf("🟢 %d/100", v)
	case v >= 50:
		return fmt.Sprintf("🟡 %d/100", v)
	default:
		return fmt.Sprintf("🔴 %d/100", v)
	}
}

// MermaidScore maps a feeling from −2…+2 to Mermaid's journey scale 1…5.
// Out-of-range feelings are clamped.
func MermaidScore(score int32) int {
	s := int(score) + 3
	if s < 1 {
		return 1
	}
	if s > 5 {
		return 5
	}
	return s
}

// maxDiagramChars bounds the Mermaid diagram so that the whole body stays
// well within GitHub's 65,536 characters: a body cut short would leave the
// code fence open and garble the rest of the issue.
const maxDiagramChars = 40000

// JourneyDiagram returns the Mermaid journey diagram of j, without the code
// fence, or "" when no persona has been scored yet. Each stage is a section;
// each touchpoint yields one task per distinct score, naming the personas
// who feel that way (in the order of spec.personas), so that every persona's
// feeling shows while personas who agree share one task. Touchpoints and
// stages without any score are left out.
func JourneyDiagram(j *cxv1.CustomerJourney) string { return journeyDiagram(j, false) }

// diagram returns the diagram that fits in maxDiagramChars: one task per
// distinct score if it fits, else one task per touchpoint with the mean
// score of its personas and no actors, else "". It reports whether means
// were used.
func diagram(j *cxv1.CustomerJourney) (string, bool) {
	if d := journeyDiagram(j, false); len(d) <= maxDiagramChars {
		return d, false
	}
	if d := journeyDiagram(j, true); len(d) <= maxDiagramChars {
		return d, true
	}
	return "", true
}

func journeyDiagram(j *cxv1.CustomerJourney, mean bool) string {
	order := make(map[string]int, len(j.Spec.Personas))
	for i, p := range j.Spec.Personas {
		if _, dup := order[p.Name]; !dup {
			order[p.Name] = i
		}
	}
	var b strings.Builder
	tasks := 0
	for _, s := range j.Spec.Stages {
		var section strings.Builder
		for _, t := range s.Touchpoints {
			groups := scoreGroups(t.Experiences, order)
			if mean {
				groups = meanGroup(groups)
			}
			for _, g := range groups {
				if mean {
					// Naming every persona at every touchpoint is what made
					// the diagram too large: the mean goes without actors.
					fmt.Fprintf(&section, "      %s: %d\n", mermaidTask(t.Name), g.score)
					tasks++
					continue
				}
				actors := make([]string, 0, len(g.personas))
				for _, p := range g.personas {
					actors = append(actors, mermaidText(p, true))
				}
				fmt.Fprintf(&section, "      %s: %d: %s\n", mermaidTask(t.Name), g.score, strings.Join(actors, ", "))
				tasks++
			}
		}
		if section.Len() > 0 {
			fmt.Fprintf(&b, "    section %s\n", mermaidTask(s.Name))
			b.WriteString(section.String())
		}
	}
	if tasks == 0 {
		return ""
	}
	return "journey\n    title " + mermaidTask(j.Name) + "\n" + b.String()
}

// meanGroup folds a touchpoint's groups into one: the mean feeling of its
// personas (rounded half away from zero), naming all of them.
func meanGroup(groups []scoreGroup) []scoreGroup {
	if len(groups) <= 1 {
		return groups
	}
	var all []string
	sum, n := 0, 0
	for _, g := range groups {
		all = append(all, g.personas...)
		sum += g.score * len(g.personas)
		n += len(g.personas)
	}
	return []scoreGroup{{score: int(math.Round(float64(sum) / float64(n))), personas: all}}
}

type scoreGroup struct {
	score    int
	personas []string
}

// scoreGroups groups a touchpoint's experiences by Mermaid score. Groups come
// in the order of their first persona; personas in the order of
// spec.personas, undeclared ones after them by name. A persona listed twice
// counts once.
func scoreGroups(exps []cxv1.Experience, order map[string]int) []scoreGroup {
	if len(exps) == 0 {
		return nil
	}
	type scored struct {
		persona string
		pos     int
		score   int
	}
	seen := make(map[string]bool, len(exps))
	list := make([]scored, 0, len(exps))
	for _, e := range exps {
		if e.Persona == "" || seen[e.Persona] {
			continue
		}
		seen[e.Persona] = true
		pos, ok := order[e.Persona]
		if !ok {
			pos = len(order)
		}
		list = append(list, scored{e.Persona, pos, MermaidScore(ptr.Deref(e.Score, 0))})
	}
	sort.SliceStable(list, func(a, b int) bool {
		if list[a].pos != list[b].pos {
			return list[a].pos < list[b].pos
		}
		return list[a].persona < list[b].persona
	})
	var groups []scoreGroup
	idx := map[int]int{}
	for _, s := range list {
		gi, ok := idx[s.score]
		if !ok {
			gi = len(groups)
			idx[s.score] = gi
			groups = append(groups, scoreGroup{score: s.score})
		}
		groups[gi].personas = append(groups[gi].personas, s.persona)
	}
	return groups
}

func writeJourneyDiagram(b *strings.Builder, j *cxv1.CustomerJourney) {
	b.WriteString("## How the personas feel\n\n")
	d, mean := diagram(j)
	if d == "" {
		if mean {
			b.WriteString("_The map is too large to draw here; see the status page or the CustomerJourney._\n\n")
		} else {
			b.WriteString("_No persona has been scored at any touchpoint yet._\n\n")
		}
		return
	}
	b.WriteString("```mermaid\n")
	b.WriteString(d)
	b.WriteString("```\n\n")
	if mean {
		b.WriteString("The map is large: each touchpoint shows the mean feeling of the personas scored there.\n")
	}
	b.WriteString("Scores: 5 = very positive, 3 = neutral, 1 = very negative (the map's +2 … −2).\n\n")
}

func writePhases(b *strings.Builder, scheds []phaseSchedule, now time.Time) {
	b.WriteString("## Phases\n\n")
	if len(scheds) == 0 {
		b.WriteString("_No improvement phase has been declared for this journey yet._\n\n")
		return
	}
	b.WriteString("| Phase | Name | State | Owner | Budget | Deadline | Progress | Closed | Schedule |\n")
	b.WriteString("|:--|:--|:--|:--|:--|:--|:--|--:|:--|\n")
	for _, s := range scheds {
		b.WriteString(phaseRow(s.p, now))
		b.WriteString(" " + scheduleText(s.f.Schedule))
		if !s.f.Projected.IsZero() && s.f.Schedule != burnup.Completed {
			b.WriteString(", projected " + s.f.Projected.UTC().Format(time.DateOnly))
		}
		b.WriteString(" |\n")
	}
	b.WriteByte('\n')
}

// phaseRow returns the Markdown table row of one phase without its
// schedule cell: it ends with "| ".
func phaseRow(p *cxv1.ImprovementPhase, now time.Time) string {
	state := string(p.Status.State)
	if state == "" {
		state = "—"
	}
	deadline := orDash(markdown.Line(p.Spec.Deadline))
	if Overdue(p, now) {
		deadline += " ⚠️ overdue"
	}
	prog := p.Status.Progress
	bar := ProgressBar(prog.Percent)
	if p.Status.State == cxv1.PhasePending || p.Status.State == "" {
		bar = "not started" // never a bar: 0/0 would read as done
	}
	name := markdown.Line(p.Name)
	if pa := p.Status.Parent; pa != nil && pa.Issue > 0 {
		// GitHub links #N and shows its sub-issues' progress beside it.
		name += fmt.Sprintf(" (#%d)", pa.Issue)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %d/%d |",
		orDash(markdown.Line(string(p.Spec.Type))), name, markdown.Line(state),
		orDash(markdown.Line(p.Spec.Owner)), orDash(markdown.Line(p.Spec.Budget)), deadline,
		bar, prog.Closed, prog.Total)
}

// ProgressBar draws percent (clamped to 0…100) as ten cells and the figure:
// "▓▓▓▓░░░░░░ 40%". A cell fills for every full 10%.
func ProgressBar(percent int32) string {
	if percent < 0 {
		percent = 0
	}
	if percent > 100 {
		percent = 100
	}
	full := int(percent) / (100 / barCells)
	return strings.Repeat("▓", full) + strings.Repeat("░", barCells-full) + " " + strconv.Itoa(int(percent)) + "%"
}

// Overdue reports whether phase p is past its deadline (the whole day of the
// deadline, in UTC, has gone by) and not Completed. A phase without a
// deadline, or with one that is not a YYYY-MM-DD date, is never overdue.
func Overdue(p *cxv1.ImprovementPhase, now time.Time) bool {
	if p.Status.State == cxv1.PhaseCompleted || p.Spec.Deadline == "" {
		return false
	}
	d, err := time.Parse(time.DateOnly, p.Spec.Deadline)
	if err != nil {
		return false
	}
	return !now.UTC().Before(d.AddDate(0, 0, 1))
}

// QuickWin is an open item of an Improve phase.
type QuickWin struct {
	Phase string
	Item  cxv1.PhaseItem
}

// OldestQuickWins returns the open items of the Improve phases among
// phases, oldest openedAt first (items without one last), at most limit.
func OldestQuickWins(phases []*cxv1.ImprovementPhase, limit int) []QuickWin {
	var out []QuickWin
	for _, p := range phases {
		if p.Spec.Type != cxv1.PhaseImprove {
			continue
		}
		for _, it := range p.Status.Items {
			if it.State == cxv1.ItemOpen {
				out = append(out, QuickWin{Phase: p.Name, Item: it})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		ta, tb := out[a].Item.OpenedAt, out[b].Item.OpenedAt
		switch {
		case ta != nil && tb == nil:
			return true
		case ta == nil && tb != nil:
			return false
		case ta != nil && tb != nil && !ta.Equal(tb):
			return ta.Before(tb)
		}
		if out[a].Item.Issue != out[b].Item.Issue {
			return out[a].Item.Issue < out[b].Item.Issue
		}
		if out[a].Phase != out[b].Phase {
			return out[a].Phase < out[b].Phase
		}
		return out[a].Item.Key < out[b].Item.Key
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func writeQuickWins(b *strings.Builder, phases []*cxv1.ImprovementPhase) {
	b.WriteString("## Oldest open quick wins\n\n")
	wins := OldestQuickWins(phases, MaxQuickWins)
	if len(wins) == 0 {
		b.WriteString("_No quick win is open._\n\n")
		return
	}
	for i, w := range wins {
		it := w.Item
		ref := "issue"
		if it.Issue > 0 {
			ref = "#" + strconv.FormatInt(it.Issue, 10)
		}
		if u := markdown.URL(it.URL); u != "" {
			ref = "[" + ref + "](" + u + ")"
		}
		title := markdown.Line(it.Title)
		if title == "" {
			title = markdown.Line(it.Key)
		}
		opened := "date unknown"
		if it.OpenedAt != nil && !it.OpenedAt.IsZero() {
			opened = it.OpenedAt.UTC().Format(time.DateOnly)
		}
		fmt.Fprintf(b, "%d. %s %s — opened %s\n", i+1, ref, title, opened)
	}
	b.WriteByte('\n')
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}
