// Package plan works out an ImprovementPhase's work from the journey map,
// with no I/O: what the phase plans (Work), how its items follow the map
// and the issues on GitHub (Merge, ApplyIssue), how far it is (Progress)
// and whether it is done (ExitCriteriaMet). The phase reconciler in
// controllers/ does the reading and writing around it.
package plan

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// VanishedKey is how an issue gone from GitHub is remembered on its
// journey (status.vanishedIssues): by the item's tracker key and the
// issue's number, never by the marker alone.
func VanishedKey(key string, number int64) string { return fmt.Sprintf("%s#%d", key, number) }

// QuickWinRule is the journey's quick-win rule: the Improve phase's
// selector over the method's default (impact ≥ 4, effort ≤ 2), so that
// Improve and Perfection split the pain points between them exactly. The
// phase's own personas narrow it.
func QuickWinRule(phases []cxv1.ImprovementPhase, ph *cxv1.ImprovementPhase) journey.Selector {
	s := journey.DefaultQuickWins
	improve := ph
	if ph.Spec.Type != cxv1.PhaseImprove {
		improve = nil
		for i := range phases {
			if p := &phases[i]; p.Spec.Type == cxv1.PhaseImprove && (improve == nil || p.Name < improve.Name) {
				improve = p
			}
		}
	}
	if improve != nil && improve.Spec.Selector != nil {
		if v := improve.Spec.Selector.MinImpact; v != 0 {
			s.MinImpact = int(v)
		}
		if v := improve.Spec.Selector.MaxEffort; v != 0 {
			s.MaxEffort = int(v)
		}
	}
	if ph.Spec.Selector != nil {
		s.Personas = ph.Spec.Selector.Personas
	}
	return s
}

// Work is the phase's work as the map stands now, best first.
func Work(ph *cxv1.ImprovementPhase, m journey.Map, pc workitem.Phase, rule journey.Selector) []workitem.Item {
	var out []workitem.Item
	switch ph.Spec.Type {
	case cxv1.PhaseDiscovery:
		for _, g := range journey.Gaps(m) {
			out = append(out, workitem.ForGap(pc, g))
		}
	case cxv1.PhaseImprove:
		for _, p := range journey.QuickWins(m, rule) {
			out = append(out, workitem.ForPainPoint(pc, p, workitem.QuickWinReason(p.PainPoint, rule)))
		}
	case cxv1.PhasePerfection:
		for _, p := range journey.LongTermPainPoints(m, rule) {
			// Perfection's own impact and effort bounds narrow what Improve leaves.
			if sel := ph.Spec.Selector; sel != nil && ((sel.MinImpact != 0 && *p.Impact < int(sel.MinImpact)) || (sel.MaxEffort != 0 && *p.Effort > int(sel.MaxEffort))) {
				continue
			}
			out = append(out, workitem.ForPainPoint(pc, p, workitem.LongTermReason(p.PainPoint, rule)))
		}
	case cxv1.PhasePersonalization:
		for _, p := range journey.PersonalizationCandidates(m, rule.Personas) {
			out = append(out, workitem.ForPersonalization(pc, p))
		}
	}
	return out
}

// Action is what an item's issue needs on GitHub.
type Action int

const (
	CloseAsCompleted Action = iota
	CloseAsNotPlanned
	Reopen
)

// Verb says what the action does to an issue, for messages.
func (a Action) Verb() string {
	if a == Reopen {
		return "reopening"
	}
	return "closing"
}

// StateReason is GitHub's state_reason of a close.
func (a Action) StateReason() string {
	if a == CloseAsNotPlanned {
		return "not_planned"
	}
	return "completed"
}

// Change is an issue to close or reopen.
type Change struct {
	Index   int // in the phase's status.items
	Action  Action
	Comment string // left on the issue
}

// Merge brings the phase's items in line with the work the map asks
// for now and with the issues on GitHub:
//   - new work becomes a Planned item, in priority order after the items already known;
//   - an item whose key has an issue on GitHub adopts it (so a crash between
//     creating an issue and recording it never yields a second one) and
//     follows its state: closed → Closed, reopened → Open;
//   - an item whose issue vanished from GitHub (deleted, transferred) is
//     Obsolete with a message, and is not opened again; what vanished is
//     matched by issue number (and the webhook's repository), never by the
//     marker alone, which anyone can copy into an issue of their own;
//   - work that no longer follows from the map is dropped while Planned (once
//     no attempt to open it can still land), or its open issue is closed: a
//     fixed gap as completed, anything else as not planned (Obsolete);
//   - work the map asks for again after cxloop closed it as not planned is
//     reopened.
func Merge(ph *cxv1.ImprovementPhase, desired []workitem.Item, issues map[string]tracker.Issue, pc workitem.Phase, vanished map[string]string, now time.Time, grace time.Duration) []Change {
	want := make(map[string]workitem.Item, len(desired))
	for _, w := range desired {
		want[w.Key] = w
	}
	known := make(map[string]bool, len(ph.Status.Items))
	var items []cxv1.PhaseItem
	var revived []bool
	for _, it := range ph.Status.Items {
		w, ok := want[it.Key]
		if !ok && it.State == cxv1.ItemPlanned {
			attemptPending := it.AttemptedAt != nil && now.Sub(it.AttemptedAt.Time) < grace
			if _, found := issues[workitem.TrackerKey(pc.Namespace, pc.Journey, it.Key)]; !found && !attemptPending {
				continue // never opened: nothing to keep
			}
		}
		again := false
		if ok {
			it.Title, it.Source = w.Title, sourceOf(w.Source)
			// Closed by cxloop as not planned, wanted again: revive it. An
			// issue gone from GitHub stays gone.
			if it.State == cxv1.ItemObsolete && it.Message == "" {
				it.State, it.ClosedAt, again = cxv1.ItemPlanned, nil, true
			}
		}
		known[it.Key] = true
		items = append(items, it)
		revived = append(revived, again)
	}
	for _, w := range desired {
		if !known[w.Key] {
			items = append(items, cxv1.PhaseItem{Key: w.Key, Title: w.Title, Source: sourceOf(w.Source), State: cxv1.ItemPlanned})
			revived = append(revived, false)
		}
	}

	var changes []Change
	for i := range items {
		it := &items[i]
		tkey := workitem.TrackerKey(pc.Namespace, pc.Journey, it.Key)
		_, wanted := want[it.Key]
		is, found := issues[tkey]
		gone := ""
		if it.Issue != 0 {
			gone = vanished[VanishedKey(tkey, it.Issue)]
		}
		if gone != "" {
			found = false // a webhook said it was deleted or transferred: believe it over a listing that may lag
		}
		if found && it.Issue != 0 && int64(is.Number) != it.Issue {
			// Another issue carries the item's marker (copied into its
			// body): the item's own issue is the one it recorded. Leave the
			// item as it is rather than follow the copy.
			continue
		}
		switch {
		case found && it.State != cxv1.ItemObsolete:
			ApplyIssue(it, is, now)
			if revived[i] && is.State == "closed" {
				changes = append(changes, Change{i, Reopen, fmt.Sprintf("The journey map %s asks for this work again: reopening.", pc.Journey)})
			}
		case !found && it.Issue != 0 && it.State != cxv1.ItemObsolete:
			it.State, it.Message = cxv1.ItemObsolete, missingMessage(it.Issue, gone)
			continue
		case it.State == cxv1.ItemObsolete && it.Message != "" && gone != "":
			// The webhook that says what happened may come after the poll that saw it gone.
			it.Message = missingMessage(it.Issue, gone)
			continue
		}
		if !wanted && it.State == cxv1.ItemOpen {
			if it.Source.Kind == workitem.KindGap {
				changes = append(changes, Change{i, CloseAsCompleted, "The journey map no longer has this gap: closing as completed."})
			} else {
				changes = append(changes, Change{i, CloseAsNotPlanned, fmt.Sprintf("This work no longer follows from the journey map %s (removed, or no longer fits the %s phase): closing as not planned.", pc.Journey, pc.Type)})
			}
		}
	}
	ph.Status.Items = items
	return changes
}

// ApplyIssue records an issue's number, link and state on an item.
func ApplyIssue(it *cxv1.PhaseItem, is tracker.Issue, now time.Time) {
	it.Issue, it.URL, it.Message, it.AttemptedAt = int64(is.Number), is.URL, "", nil
	if it.OpenedAt == nil && !is.CreatedAt.IsZero() {
		t := metav1.NewTime(is.CreatedAt.Truncate(1e9))
		it.OpenedAt = &t
	}
	if is.State == "closed" {
		it.State = cxv1.ItemClosed
		t := metav1.NewTime(now.Truncate(time.Second))
		if is.ClosedAt != nil {
			t = metav1.NewTime(is.ClosedAt.Truncate(1e9))
		}
		if it.ClosedAt == nil || !it.ClosedAt.Equal(&t) {
			it.ClosedAt = &t
		}
		return
	}
	it.State, it.ClosedAt = cxv1.ItemOpen, nil
}

func missingMessage(number int64, what string) string {
	if what == "" {
		what = "deleted, transferred or unlabelled on GitHub"
	}
	return fmt.Sprintf("issue #%d is gone from the repository: %s; cxloop will not open it again", number, what)
}

func sourceOf(s workitem.Source) cxv1.ItemSource {
	return cxv1.ItemSource{Kind: s.Kind, Stage: s.Stage, Touchpoint: s.Touchpoint, PainPoint: s.PainPoint, Persona: s.Persona}
}

// Progress counts the items; Obsolete ones are not part of the work.
func Progress(items []cxv1.PhaseItem) cxv1.PhaseProgress {
	var p cxv1.PhaseProgress
	for _, it := range items {
		switch it.State {
		case cxv1.ItemPlanned:
			p.Planned++
		case cxv1.ItemOpen:
			p.Open++
		case cxv1.ItemClosed:
			p.Closed++
			if it.Outcome != nil && it.Outcome.Verdict == cxv1.VerdictImproved {
				p.Verified++
			}
		default:
			continue
		}
		p.Total++
	}
	p.Percent = 100
	if p.Total > 0 {
		p.Percent = p.Closed * 100 / p.Total
	}
	p.Summary = fmt.Sprintf("%d/%d (%d%%)", p.Closed, p.Total, p.Percent)
	return p
}

// ExitCriteriaMet reports whether the phase is complete, or what it waits for.
func ExitCriteriaMet(ph *cxv1.ImprovementPhase, cj *cxv1.CustomerJourney, p cxv1.PhaseProgress, remainingWork int) (bool, string) {
	closedPct, minHealth, verifiedPct := int32(100), int32(-1), int32(0)
	if ec := ph.Spec.ExitCriteria; ec != nil {
		if ec.VerifiedPercent != nil {
			verifiedPct = *ec.VerifiedPercent
		}
		if ec.ClosedPercent != nil {
			closedPct = *ec.ClosedPercent
		}
		if ec.MinHealthScore != nil {
			minHealth = *ec.MinHealthScore
		}
	}
	if p.Percent < closedPct {
		return false, fmt.Sprintf("completes at %d%% closed", closedPct)
	}
	if verifiedPct > 0 && (p.Total == 0 || p.Verified*100 < verifiedPct*p.Total) {
		now := int32(0)
		if p.Total > 0 {
			now = p.Verified * 100 / p.Total
		}
		return false, fmt.Sprintf("completes at %d%% verified as improved by their measures, now %d%% (%d of %d)", verifiedPct, now, p.Verified, p.Total)
	}
	if minHealth >= 0 && (cj.Status.HealthScore == nil || *cj.Status.HealthScore < minHealth) {
		h := "unknown"
		if cj.Status.HealthScore != nil {
			h = fmt.Sprint(*cj.Status.HealthScore)
		}
		return false, fmt.Sprintf("completes at journey health %d, now %s", minHealth, h)
	}
	if ph.Spec.Type == cxv1.PhaseDiscovery && remainingWork > 0 {
		return false, fmt.Sprintf("completes when the map has no gaps: %d left", remainingWork)
	}
	return true, ""
}
