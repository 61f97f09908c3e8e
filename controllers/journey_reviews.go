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
// when the next review is due, or sooner while an earlier attempt to open
// one may still land.
func (r *CustomerJourneyReconciler) reconcileReviews(ctx context.Context, run *journeyRun, sched *review.Schedule, m journey.Map, phases []cxv1.ImprovementPhase) (time.Duration, error) {
	cj := run.cj
	if cj.Status.Review == nil {
		cj.Status.Review = &cxv1.ReviewStatus{}
	}
	nowT := r.Clock.Now()
	var last time.Time
	if at := cj.Status.Review.LastScheduledTime; at != nil {
		last = at.Time
	}
	last, open := reviewsOnGitHub(cj, run.issues, last)
	d := sched.Due(cj.CreationTimestamp.Time, last, nowT, cj.Spec.Review.StartingDeadlineSeconds)
	switch {
	case ptr.Deref(cj.Spec.Review.Suspend, false):
	case d.TooLate:
		cj.Status.Review.Missed += int32(d.Missed) + 1
		last = d.ScheduledTime
		run.news.tell(nil, corev1.EventTypeWarning, cxv1.ReasonReviewMissed, "Review",
			"the review due at %s was missed: more than spec.review.startingDeadlineSeconds late", d.ScheduledTime.UTC().Format(time.RFC3339))
	case d.ShouldOpen():
		opened, wait, err := r.openReview(ctx, run, sched, d, m, phases)
		if err != nil || wait > 0 {
			return wait, err // an earlier request for this review may still land, or the write budget is spent
		}
		last = d.ScheduledTime
		open = append(open, opened)
	}
	return noteReviews(cj, sched, d, last, open, nowT), nil
}

// noteReviews records where the reviews stand: the last scheduled time,
// the open review issue, the flags, and when the next review is due, which
// it returns as a wait.
func noteReviews(cj *cxv1.CustomerJourney, sched *review.Schedule, d review.Decision, last time.Time, open []reviewIssue, nowT time.Time) time.Duration {
	st := cj.Status.Review // an attempt's write decoded the answer into the journey
	if !last.IsZero() {
		t := metav1.NewTime(last)
		st.LastScheduledTime = &t
	}
	st.OpenIssue = nil
	if n := len(open); n > 0 {
		st.OpenIssue = &cxv1.IssueReference{Number: int64(open[n-1].issue.Number), URL: open[n-1].issue.URL}
	}
	flagReviews(cj, open, sched)
	next := sched.Next(nowT)
	if !d.Next.IsZero() {
		next = d.Next
	}
	nt := metav1.NewTime(next)
	cj.Status.NextReviewTime = &nt
	return max(time.Second, next.Sub(nowT))
}

// reviewsOnGitHub reads what GitHub says about the reviews so far: the
// latest scheduled time it knows (at least last: recorded on GitHub, even
// if the status write was lost), the review issues still open, oldest
// first, and status.lastReviewTime from the closed ones.
func reviewsOnGitHub(cj *cxv1.CustomerJourney, issues map[string]tracker.Issue, last time.Time) (time.Time, []reviewIssue) {
	var open []reviewIssue
	cj.Status.LastReviewTime = nil
	for _, ri := range reviewIssuesOf(cj, issues) {
		if ri.scheduled.After(last) {
			last = ri.scheduled
		}
		switch {
		case ri.issue.State == "closed" && ri.issue.ClosedAt != nil:
			if cj.Status.LastReviewTime == nil || ri.issue.ClosedAt.After(cj.Status.LastReviewTime.Time) {
				t := metav1.NewTime(ri.issue.ClosedAt.Truncate(time.Second))
				cj.Status.LastReviewTime = &t
			}
		case ri.issue.State == "open":
			open = append(open, ri)
		}
	}
	return last, open
}

// openReview opens the review issue of d's scheduled time exactly once and
// records what the review saw of the map. wait is set, and nothing opened,
// while an earlier attempt may still land or the write budget is spent.
func (r *CustomerJourneyReconciler) openReview(ctx context.Context, run *journeyRun, sched *review.Schedule, d review.Decision, m journey.Map, phases []cxv1.ImprovementPhase) (reviewIssue, time.Duration, error) {
	cj := run.cj
	digest := mapDigest(&cj.Spec)
	unchanged := 0
	if st := cj.Status.Review; st.MapDigest != "" && st.MapDigest == digest {
		unchanged = int(st.UnchangedReviews) + 1
	}
	title, body := workitem.ReviewIssue(workitem.Review{
		Namespace: cj.Namespace, Journey: cj.Name, JourneyOwner: cj.Spec.Owner, Scheduled: d.ScheduledTime, Location: sched.Location(),
		Map: m, OpenQuickWins: openQuickWins(phases), Unphased: unphasedPainPoints(m, phases), UnchangedReviews: unchanged, Now: r.Clock.Now(),
	})
	key := workitem.TrackerKey(cj.Namespace, cj.Name, review.ReviewKey(d.ScheduledTime))
	_, existed := run.issues[key]
	is, wait, err := r.ensureJourneyIssue(ctx, run, tracker.IssueRequest{Key: key, Title: title, Body: body, Labels: reviewLabels(cj), Assignees: assignees(cj)})
	if err != nil || wait > 0 {
		return reviewIssue{}, wait, err
	}
	st := cj.Status.Review // the attempt's write decoded the answer into the journey
	st.Missed += int32(d.Missed)
	st.MapDigest, st.UnchangedReviews = digest, int32(unchanged)
	if !existed {
		r.Recorder.Eventf(cj, nil, corev1.EventTypeNormal, cxv1.ReasonReviewOpened, "Review", "opened review issue #%d for %s", is.Number, d.ScheduledTime.UTC().Format(time.RFC3339))
	}
	return reviewIssue{d.ScheduledTime, is}, 0, nil
}

// flagReviews sets ReviewOverdue while an older review is still open, and
// Stale when the map has not changed across staleAfterReviews reviews.
func flagReviews(cj *cxv1.CustomerJourney, open []reviewIssue, sched *review.Schedule) {
	conds, gen := &cj.Status.Conditions, cj.Generation
	if len(open) > 1 {
		old := open[0]
		conditions.Set(conds, gen, cxv1.ConditionReviewOverdue, metav1.ConditionTrue, cxv1.ReasonReviewOverdue,
			fmt.Sprintf("the review of %s (issue #%d) was still open when the next one was due", old.scheduled.In(sched.Location()).Format("2006-01-02"), old.issue.Number))
	} else {
		conditions.Remove(conds, cxv1.ConditionReviewOverdue)
	}
	if n := cj.Status.Review.UnchangedReviews; n >= staleAfterReviews {
		conditions.Set(conds, gen, cxv1.ConditionStale, metav1.ConditionTrue, cxv1.ReasonMapUnchanged,
			fmt.Sprintf("the map has not changed across %d reviews: walk the journey again", n+1))
	} else {
		conditions.Remove(conds, cxv1.ConditionStale)
	}
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
