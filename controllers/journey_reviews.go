package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/dashboard"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/review"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

const (
	// staleAfterReviews is how many reviews in a row with an unchanged map
	// make the journey Stale.
	staleAfterReviews = 2

	dashboardKey = "dashboard"
)

// reviewSchedule parses the journey's review cadence; nil without one.
func reviewSchedule(cj *cxv1.CustomerJourney) (*review.Schedule, error) {
	rs := cj.Spec.Review
	if rs == nil {
		return nil, nil
	}
	tz := ""
	if rs.TimeZone != nil {
		tz = *rs.TimeZone
	}
	s, err := review.Parse(rs.Schedule, tz)
	if err != nil {
		field := "spec.review.schedule"
		if errors.Is(err, review.ErrInvalidTimeZone) {
			field = "spec.review.timeZone"
		}
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return &s, nil
}

// reviewIssues are the journey's review issues on GitHub, oldest scheduled first.
type reviewIssue struct {
	scheduled time.Time
	issue     tracker.Issue
}

func reviewIssuesOf(cj *cxv1.CustomerJourney, issues map[string]tracker.Issue) []reviewIssue {
	prefix := workitem.JourneyPrefix(cj.Namespace, cj.Name)
	var out []reviewIssue
	for key, is := range issues {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		if at, ok := review.ScheduledTimeOf(rest); ok {
			out = append(out, reviewIssue{at, is})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].scheduled.Before(out[j].scheduled) })
	return out
}

// reconcileReviews opens the review issue of each scheduled time exactly
// once (its key is the scheduled time), records reviews done when their
// issue is closed, and flags overdue reviews and a stale map. It returns
// when the next review is due.
func (r *CustomerJourneyReconciler) reconcileReviews(ctx context.Context, run *journeyRun, sched *review.Schedule, m journey.Map, phases []cxv1.ImprovementPhase) (time.Duration, error) {
	cj, issues := run.cj, run.issues
	st := cj.Status.Review
	if st == nil {
		st = &cxv1.ReviewStatus{}
		cj.Status.Review = st
	}
	nowT := r.Clock.Now()
	conds, gen := &cj.Status.Conditions, cj.Generation

	// What GitHub says about the reviews so far.
	found := reviewIssuesOf(cj, issues)
	var last time.Time
	if st.LastScheduledTime != nil {
		last = st.LastScheduledTime.Time
	}
	var open []reviewIssue
	cj.Status.LastReviewTime = nil
	for _, ri := range found {
		if ri.scheduled.After(last) {
			last = ri.scheduled // recorded on GitHub, even if the status write was lost
		}
		if ri.issue.State == "closed" && ri.issue.ClosedAt != nil {
			if cj.Status.LastReviewTime == nil || ri.issue.ClosedAt.After(cj.Status.LastReviewTime.Time) {
				t := metav1.NewTime(ri.issue.ClosedAt.Truncate(time.Second))
				cj.Status.LastReviewTime = &t
			}
		} else if ri.issue.State == "open" {
			open = append(open, ri)
		}
	}

	suspended := cj.Spec.Review.Suspend != nil && *cj.Spec.Review.Suspend
	d := sched.Due(cj.CreationTimestamp.Time, last, nowT, cj.Spec.Review.StartingDeadlineSeconds)
	switch {
	case suspended:
	case d.TooLate:
		st.Missed += int32(d.Missed) + 1
		last = d.ScheduledTime
		r.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, cxv1.ReasonReviewMissed, "Review",
			"the review due at %s was missed: more than spec.review.startingDeadlineSeconds late", d.ScheduledTime.UTC().Format(time.RFC3339))
	case d.ShouldOpen():
		digest := mapDigest(&cj.Spec)
		unchanged := int(st.UnchangedReviews)
		if st.MapDigest != "" && st.MapDigest == digest {
			unchanged++
		} else {
			unchanged = 0
		}
		title, body := workitem.ReviewIssue(workitem.Review{
			Namespace: cj.Namespace, Journey: cj.Name, JourneyOwner: cj.Spec.Owner, Scheduled: d.ScheduledTime, Location: sched.Location(),
			Map: m, OpenQuickWins: openQuickWins(phases), Unphased: unphasedPainPoints(m, phases), UnchangedReviews: unchanged, Now: nowT,
		})
		key := workitem.TrackerKey(cj.Namespace, cj.Name, review.ReviewKey(d.ScheduledTime))
		_, existed := issues[key]
		is, wait, err := r.ensureJourneyIssue(ctx, run, tracker.IssueRequest{Key: key, Title: title, Body: body, Labels: reviewLabels(cj), Assignees: assignees(cj)})
		if err != nil {
			return 0, err
		}
		if wait > 0 {
			return wait, nil // an earlier request for this review may still land, or the write budget is spent
		}
		st = cj.Status.Review // the attempt's write decoded the answer into the journey
		created := !existed
		st.Missed += int32(d.Missed)
		st.MapDigest, st.UnchangedReviews = digest, int32(unchanged)
		last = d.ScheduledTime
		open = append(open, reviewIssue{d.ScheduledTime, is})
		if created {
			r.Recorder.Eventf(cj, nil, corev1.EventTypeNormal, cxv1.ReasonReviewOpened, "Review", "opened review issue #%d for %s", is.Number, d.ScheduledTime.UTC().Format(time.RFC3339))
		}
	}
	if !last.IsZero() {
		t := metav1.NewTime(last)
		st.LastScheduledTime = &t
	}

	st.OpenIssue = nil
	if n := len(open); n > 0 {
		st.OpenIssue = &cxv1.IssueReference{Number: int64(open[n-1].issue.Number), URL: open[n-1].issue.URL}
	}
	if len(open) > 1 {
		old := open[0]
		conditions.Set(conds, gen, cxv1.ConditionReviewOverdue, metav1.ConditionTrue, cxv1.ReasonReviewOverdue,
			fmt.Sprintf("the review of %s (issue #%d) was still open when the next one was due", old.scheduled.In(sched.Location()).Format("2006-01-02"), old.issue.Number))
	} else {
		conditions.Remove(conds, cxv1.ConditionReviewOverdue)
	}
	if st.UnchangedReviews >= staleAfterReviews {
		conditions.Set(conds, gen, cxv1.ConditionStale, metav1.ConditionTrue, cxv1.ReasonMapUnchanged,
			fmt.Sprintf("the map has not changed across %d reviews: walk the journey again", st.UnchangedReviews+1))
	} else {
		conditions.Remove(conds, cxv1.ConditionStale)
	}

	next := sched.Next(nowT)
	if !d.Next.IsZero() {
		next = d.Next
	}
	nt := metav1.NewTime(next)
	cj.Status.NextReviewTime = &nt
	return max(time.Second, next.Sub(nowT)), nil
}

// reconcileDashboard keeps the journey's dashboard issue up to date: it is
// opened once and edited only when its content changes.
// It returns when to look again while an earlier attempt to open it may
// still land.
func (r *CustomerJourneyReconciler) reconcileDashboard(ctx context.Context, run *journeyRun, phases []cxv1.ImprovementPhase) (time.Duration, error) {
	cj := run.cj
	if !ptr.Deref(cj.Spec.Tracker.GitHub.Dashboard, false) {
		cj.Status.Dashboard = nil
		return 0, nil
	}
	title := "Journey dashboard: " + cj.Name
	body := dashboard.Render(cj, phases, r.Clock.Now())
	key := workitem.TrackerKey(cj.Namespace, cj.Name, dashboardKey)
	is, found := run.issues[key]
	if !found {
		var wait time.Duration
		var err error
		if is, wait, err = r.ensureJourneyIssue(ctx, run, tracker.IssueRequest{Key: key, Title: title, Body: body, Labels: []string{"dashboard"}}); err != nil || wait > 0 {
			return wait, err
		}
	} else if err := run.tr.UpdateIssue(ctx, is.Number, title, body); err != nil {
		return 0, err
	}
	cj.Status.Dashboard = &cxv1.IssueReference{Number: int64(is.Number), URL: is.URL}
	return 0, nil
}

// mapDigest identifies the map: personas and stages, not the review or tracker settings.
func mapDigest(spec *cxv1.CustomerJourneySpec) string {
	raw, _ := json.Marshal(struct {
		P []cxv1.Persona
		S []cxv1.Stage
	}{spec.Personas, spec.Stages})
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// openQuickWins are the Improve phases' issues still open.
func openQuickWins(phases []cxv1.ImprovementPhase) []workitem.OpenWork {
	var out []workitem.OpenWork
	for _, p := range phases {
		if p.Spec.Type != cxv1.PhaseImprove {
			continue
		}
		for _, it := range p.Status.Items {
			if it.State == cxv1.ItemOpen && it.OpenedAt != nil {
				out = append(out, workitem.OpenWork{Title: it.Title, URL: it.URL, Phase: p.Name, OpenedAt: it.OpenedAt.Time})
			}
		}
	}
	return out
}

// unphasedPainPoints are the pain points no phase has taken up.
func unphasedPainPoints(m journey.Map, phases []cxv1.ImprovementPhase) []journey.Located {
	taken := map[string]bool{}
	for _, p := range phases {
		for _, it := range p.Status.Items {
			if it.Source.PainPoint != "" {
				taken[it.Source.PainPoint] = true
			}
		}
	}
	var out []journey.Located
	for _, p := range m.PainPoints() {
		if !taken[p.ID] {
			out = append(out, p)
		}
	}
	return out
}

func reviewLabels(cj *cxv1.CustomerJourney) []string {
	return append([]string{"review"}, cj.Spec.Tracker.GitHub.Labels...)
}

func assignees(cj *cxv1.CustomerJourney) []string { return cj.Spec.Tracker.GitHub.Assignees }
