// Package workitem turns what the journey analytics find — gaps, quick
// wins, long-term pain points, personalizations — into the pieces of work
// of an improvement phase: a stable key, and an issue a product owner can
// triage without asking anyone (title, context, why it was chosen, an
// acceptance checklist, labels).
package workitem

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/markdown"
	"github.com/cxloop/cxloop/internal/tracker"
)

// Kinds of work.
const (
	KindGap             = "Gap"
	KindPainPoint       = "PainPoint"
	KindPersonalization = "Personalization"
)

// Phase is the context every issue of a phase carries.
type Phase struct {
	Namespace string
	Journey   string
	// JourneyOwner is the team accountable for the journey.
	JourneyOwner string
	Name         string
	// Type is Discovery, Improve, Perfection or Personalization.
	Type     string
	Owner    string
	Deadline string
	// Labels and Assignees come from the journey's tracker spec.
	Labels    []string
	Assignees []string
}

// Source says where in the map an item comes from.
type Source struct {
	Kind, Stage, Touchpoint, PainPoint, Persona string
}

// Item is one piece of work and the issue that tracks it.
type Item struct {
	// Key is stable: the same gap, pain point or personalization always yields it.
	Key    string
	Title  string
	Body   string
	Labels []string
	Source Source
	// Board is what the item's issue shows in cxloop's fields on the
	// product owner's board (tracker.BoardFields).
	Board Board
}

// Board holds an item's values of cxloop's board fields; an empty value
// (or 0) is not set.
type Board struct {
	Phase, Stage, Persona, Channel, Department string
	Impact, Effort                             int
	// QuickWin is "Yes", "No" or "" (not a pain point).
	QuickWin string
}

// Values are the board values by field name, as tracker.Board.SetValues
// takes them.
func (b Board) Values() map[string]string {
	out := map[string]string{}
	set := func(name, v string) {
		if v != "" {
			out[name] = v
		}
	}
	set(tracker.FieldPhase, b.Phase)
	set(tracker.FieldStage, b.Stage)
	set(tracker.FieldPersona, b.Persona)
	set(tracker.FieldChannel, b.Channel)
	set(tracker.FieldDepartment, b.Department)
	set(tracker.FieldQuickWin, b.QuickWin)
	if b.Impact > 0 {
		out[tracker.FieldImpact] = strconv.Itoa(b.Impact)
	}
	if b.Effort > 0 {
		out[tracker.FieldEffort] = strconv.Itoa(b.Effort)
	}
	return out
}

// TrackerKey is the key of an item's issue in the repository, which several
// journeys may share: the journey's namespace and name, then the item key.
// Over-long keys are shortened with a digest so they stay valid markers.
func TrackerKey(namespace, journeyName, itemKey string) string {
	k := namespace + "/" + journeyName + "/" + itemKey
	if tracker.ValidKey(k) {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "h/" + hex.EncodeToString(sum[:digestBytes])
}

// IsDigestKey says whether k has the form of a key TrackerKey shortened to
// a digest, which no longer names its journey: "h/" and 32 lowercase hex
// digits. (A namespace may be called "h", but its keys have a journey and
// an item after it.)
func IsDigestKey(k string) bool {
	rest, ok := strings.CutPrefix(k, "h/")
	if !ok || len(rest) != 2*digestBytes {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// digestBytes is how much of a key's SHA-256 a shortened key keeps.
const digestBytes = 16

// JourneyPrefix is the start every tracker key of a journey's items shares.
func JourneyPrefix(namespace, journeyName string) string {
	return namespace + "/" + journeyName + "/"
}

// ForGap is the Discovery work of closing one gap of the map.
func ForGap(ph Phase, g journey.Gap) Item {
	where := location(g.Stage, g.Touchpoint)
	title := "Map gap: " + gapTitle(g)
	var b strings.Builder
	fmt.Fprintf(&b, "The journey map **%s** has a gap that the Discovery phase closes.\n\n", safe(ph.Journey))
	fmt.Fprintf(&b, "> %s\n\n", safe(g.Message))
	b.WriteString("| | |\n|---|---|\n")
	row(&b, "Gap", string(g.Kind))
	row(&b, "Where", where)
	row(&b, "Persona", g.Persona)
	row(&b, "Pain point", g.PainPoint)
	row(&b, "Measure", g.Measure)
	row(&b, "Measured value", g.Value)
	row(&b, "Target", g.Target)
	checklist(&b, gapChecklist(g))
	footer(&b, ph)
	return Item{
		Key: g.Key, Title: title, Body: b.String(),
		Labels: labels(ph, g.Persona, g.Stage, ""),
		Source: Source{Kind: KindGap, Stage: g.Stage, Touchpoint: g.Touchpoint, PainPoint: g.PainPoint, Persona: g.Persona},
		Board:  Board{Phase: ph.Type, Stage: g.Stage, Persona: g.Persona},
	}
}

// ForPainPoint is the work of solving one pain point; why says why this
// phase chose it (for example "quick win: impact 5 ≥ 4 and effort 1 ≤ 2").
func ForPainPoint(ph Phase, p journey.Located, why string) Item {
	title := fmt.Sprintf("%s: %s", p.Touchpoint, p.Summary)
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** — found at touchpoint **%s** in stage **%s** of the journey **%s**.\n\n",
		safe(p.Summary), safe(p.Touchpoint), safe(p.Stage), safe(ph.Journey))
	b.WriteString("| | |\n|---|---|\n")
	row(&b, "Personas", personas(p.Personas))
	row(&b, "Stage", p.Stage)
	row(&b, "Touchpoint", p.Touchpoint+flags(p.MomentOfTruth, p.TopTask))
	row(&b, "Channel", p.Channel)
	row(&b, "Owning department", orUnknown(p.Owner))
	row(&b, "Impact", fmt.Sprintf("%d of 5", *p.Impact))
	row(&b, "Effort", fmt.Sprintf("%d of 5", *p.Effort))
	row(&b, "Priority", journey.Priority(p.PainPoint))
	row(&b, "Why this phase", why)
	checklist(&b, []string{
		"The cause is understood and written down in this issue",
		"A fix is live at touchpoint " + p.Touchpoint + " (" + p.Channel + ")",
		"Walked the journey as " + personas(p.Personas) + ": the problem is gone",
		"The experience scores of this touchpoint in the journey map are updated",
	})
	footer(&b, ph)
	persona := ""
	if len(p.Personas) == 1 {
		persona = p.Personas[0]
	}
	ls := labels(ph, persona, p.Stage, journey.Priority(p.PainPoint))
	if len(p.Personas) > 1 {
		for _, n := range p.Personas {
			ls = appendLabel(ls, "persona:"+n)
		}
	}
	return Item{
		Key: journey.PainPointKey(p.ID), Title: title, Body: b.String(), Labels: ls,
		Source: Source{Kind: KindPainPoint, Stage: p.Stage, Touchpoint: p.Touchpoint, PainPoint: p.ID},
		Board: Board{Phase: ph.Type, Stage: p.Stage, Persona: strings.Join(p.Personas, ", "), Channel: p.Channel,
			Department: p.Owner, Impact: *p.Impact, Effort: *p.Effort, QuickWin: quickWin(why)},
	}
}

// ForPersonalization is the work of tailoring a touchpoint, or one of its
// pain points, to one persona.
func ForPersonalization(ph Phase, p journey.Personalization) Item {
	what := "touchpoint " + p.Touchpoint
	title := fmt.Sprintf("Personalize %s for %s", p.Touchpoint, p.Persona)
	ppID, priority := "", ""
	if p.PainPoint != nil {
		what = "pain point " + p.PainPoint.ID + " at touchpoint " + p.Touchpoint
		title = fmt.Sprintf("Personalize for %s: %s", p.Persona, p.PainPoint.Summary)
		ppID = p.PainPoint.ID
		priority = journey.Priority(*p.PainPoint)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tailor %s one-to-one for the persona **%s** in the journey **%s**.\n\n", safe(what), safe(p.Persona), safe(ph.Journey))
	b.WriteString("| | |\n|---|---|\n")
	row(&b, "Persona", p.Persona)
	row(&b, "Stage", p.Stage)
	row(&b, "Touchpoint", p.Touchpoint+flags(p.MomentOfTruth, false))
	row(&b, "Channel", p.Channel)
	row(&b, "Owning department", orUnknown(p.Owner))
	if p.PainPoint != nil {
		row(&b, "Pain point", p.PainPoint.Summary)
	}
	row(&b, "Why this phase", "marked personalize in the journey map")
	checklist(&b, []string{
		"What " + p.Persona + " needs here differently from other personas is written down",
		"The touchpoint recognises " + p.Persona + " and adapts to it",
		"Walked the journey as " + p.Persona + ": it feels made for them",
	})
	footer(&b, ph)
	return Item{
		Key: p.Key(), Title: title, Body: b.String(), Labels: labels(ph, p.Persona, p.Stage, priority),
		Source: Source{Kind: KindPersonalization, Stage: p.Stage, Touchpoint: p.Touchpoint, PainPoint: ppID, Persona: p.Persona},
		Board:  personalizationBoard(ph, p),
	}
}

func personalizationBoard(ph Phase, p journey.Personalization) Board {
	b := Board{Phase: ph.Type, Stage: p.Stage, Persona: p.Persona, Channel: p.Channel, Department: p.Owner}
	if p.PainPoint != nil {
		if p.PainPoint.Impact != nil {
			b.Impact = *p.PainPoint.Impact
		}
		if p.PainPoint.Effort != nil {
			b.Effort = *p.PainPoint.Effort
		}
	}
	return b
}

// quickWin is the Quick win value of a pain point chosen for why.
func quickWin(why string) string {
	if strings.HasPrefix(why, "quick win") {
		return "Yes"
	}
	return "No"
}

// QuickWinReason says why a pain point is a quick win under s.
func QuickWinReason(p journey.PainPoint, s journey.Selector) string {
	return fmt.Sprintf("quick win: impact %d ≥ %d and effort %d ≤ %d", *p.Impact, s.MinImpact, *p.Effort, s.MaxEffort)
}

// LongTermReason says why a pain point is long-term work.
func LongTermReason(p journey.PainPoint, s journey.Selector) string {
	return fmt.Sprintf("long-term improvement: impact %d, effort %d (not a quick win, which needs impact ≥ %d and effort ≤ %d)", *p.Impact, *p.Effort, s.MinImpact, s.MaxEffort)
}

func gapTitle(g journey.Gap) string {
	switch g.Kind {
	case journey.PersonaNotScored:
		return fmt.Sprintf("score how %s feels in stage %s", g.Persona, g.Stage)
	case journey.TouchpointWithoutOwner:
		return fmt.Sprintf("find an owner for touchpoint %s (%s)", g.Touchpoint, g.Stage)
	case journey.StageWithoutMomentOfTruth:
		return fmt.Sprintf("find the moment of truth of stage %s", g.Stage)
	case journey.PainPointNotSized:
		return fmt.Sprintf("size pain point %s at %s", g.PainPoint, g.Touchpoint)
	case journey.PersonaWithoutGoals:
		return fmt.Sprintf("write down the goals of persona %s", g.Persona)
	case journey.NoTopTask:
		return "mark the journey's top tasks"
	case journey.MeasureMissesTarget:
		return fmt.Sprintf("%s misses its target at touchpoint %s (%s)", g.Measure, g.Touchpoint, g.Stage)
	}
	return g.Message
}

func gapChecklist(g journey.Gap) []string {
	switch g.Kind {
	case journey.PersonaNotScored:
		return []string{"Walked stage " + g.Stage + " as " + g.Persona + " (be your own customer)", "Added an experience score for " + g.Persona + " at its touchpoints in the map"}
	case journey.TouchpointWithoutOwner:
		return []string{"A department agreed to own touchpoint " + g.Touchpoint, "Set the touchpoint's owner in the map"}
	case journey.StageWithoutMomentOfTruth:
		return []string{"Found where customers make up their mind in stage " + g.Stage, "Marked that touchpoint momentOfTruth in the map"}
	case journey.PainPointNotSized:
		return []string{"Estimated impact (1-5) with the customer in mind", "Estimated effort (1-5) with the owning department", "Set impact and effort of " + g.PainPoint + " in the map"}
	case journey.PersonaWithoutGoals:
		return []string{"Asked customers like " + g.Persona + " what they come to do", "Added the persona's goals to the map"}
	case journey.MeasureMissesTarget:
		return []string{"Found why customers feel touchpoint " + g.Touchpoint + " below target (" + g.Measure + " " + g.Value + ", target " + g.Target + ")",
			"Added the cause to the map as a sized pain point of the touchpoint (this closes the gap; Improve or Perfection fixes it)"}
	}
	return []string{"The map no longer has this gap"}
}

func checklist(b *strings.Builder, items []string) {
	b.WriteString("\n### Done when\n\n")
	for _, it := range items {
		fmt.Fprintf(b, "- [ ] %s\n", safe(it))
	}
}

func footer(b *strings.Builder, ph Phase) {
	b.WriteString("\n---\n")
	fmt.Fprintf(b, "Journey **%s** (namespace %s, owner %s) · phase **%s** (%s", safe(ph.Journey), safe(ph.Namespace), safe(orUnknown(ph.JourneyOwner)), safe(ph.Name), safe(ph.Type))
	if ph.Owner != "" {
		fmt.Fprintf(b, ", owner %s", safe(ph.Owner))
	}
	if ph.Deadline != "" {
		fmt.Fprintf(b, ", deadline %s", safe(ph.Deadline))
	}
	b.WriteString(")\n\n_Opened by cxloop. Close this issue when the work is done; cxloop tracks it and moves the phase forward._\n")
}

func row(b *strings.Builder, name, value string) {
	if value == "" {
		return
	}
	// One line inside the cell: a summary with line breaks must not end
	// the table and start a checklist or a heading of its own.
	fmt.Fprintf(b, "| %s | %s |\n", name, markdown.Line(value))
}

func labels(ph Phase, persona, stage, priority string) []string {
	ls := []string{"phase:" + strings.ToLower(ph.Type)}
	if persona != "" {
		ls = append(ls, "persona:"+persona)
	}
	if stage != "" {
		ls = append(ls, "stage:"+stage)
	}
	if priority != "" {
		ls = append(ls, "priority:"+priority)
	}
	for _, l := range ph.Labels {
		ls = appendLabel(ls, l)
	}
	for i, l := range ls {
		if r := []rune(l); len(r) > 50 { // GitHub's limit for a label name
			ls[i] = string(r[:50])
		}
	}
	return ls
}

func appendLabel(ls []string, l string) []string {
	for _, x := range ls {
		if x == l {
			return ls
		}
	}
	return append(ls, l)
}

func location(stage, touchpoint string) string {
	switch {
	case stage != "" && touchpoint != "":
		return "stage " + stage + ", touchpoint " + touchpoint
	case stage != "":
		return "stage " + stage
	}
	return "the whole journey"
}

func personas(ns []string) string {
	if len(ns) == 0 {
		return "all personas"
	}
	return strings.Join(ns, ", ")
}

func flags(mot, top bool) string {
	var f []string
	if mot {
		f = append(f, "moment of truth")
	}
	if top {
		f = append(f, "top task")
	}
	if len(f) == 0 {
		return ""
	}
	return " (" + strings.Join(f, ", ") + ")"
}

func orUnknown(s string) string {
	if s == "" {
		return "not set"
	}
	return s
}

// safe neutralises text taken from a custom resource: no @mentions, no raw HTML.
func safe(s string) string { return markdown.Text(s) }

// KindPhaseParent is the kind of a phase's parent issue.
const KindPhaseParent = "PhaseParent"

// phaseWork names a phase's work in a parent issue's title.
var phaseWork = map[string]string{
	"Discovery":       "map gaps",
	"Improve":         "quick wins",
	"Perfection":      "long-term pain points",
	"Personalization": "personalized touchpoints",
}

// PhaseParentKey is the item key of a phase's parent issue.
func PhaseParentKey(phaseName string) string { return "phase/" + phaseName }

// ForPhaseParent is a phase's parent issue, for example "Improve: quick
// wins of nature-park-visit": the phase's work items are its sub-issues,
// so GitHub shows the phase's progress on it. A later phase's parent is
// blocked by the earlier one's while it waits.
func ForPhaseParent(ph Phase) Item {
	work := phaseWork[ph.Type]
	if work == "" {
		work = "work"
	}
	title := fmt.Sprintf("%s: %s of %s", ph.Type, work, ph.Journey)
	var b strings.Builder
	fmt.Fprintf(&b, "The %s phase **%s** of the journey **%s**: its %s are the sub-issues of this issue, and GitHub shows their progress here.\n",
		safe(ph.Type), safe(ph.Name), safe(ph.Journey), safe(work))
	footer(&b, ph)
	return Item{
		Key: PhaseParentKey(ph.Name), Title: title, Body: b.String(), Labels: labels(ph, "", "", ""),
		Source: Source{Kind: KindPhaseParent},
		Board:  Board{Phase: ph.Type},
	}
}
