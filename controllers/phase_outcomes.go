package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/outcome"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/workitem"
)

// verifyOutcomes judges the closed items whose pain point or touchpoint
// has a measure: once the settle window after the close has passed, it
// compares the measure's mean over the settle window before the issue was
// opened with its mean over the settle window after it was closed, records
// the verdict on the item and writes it on the closed issue. Prometheus'
// failures leave the outcome Pending with a message and set MeasuresReady
// False; they never stop the phase, and the item is read again later.
func (r *ImprovementPhaseReconciler) verifyOutcomes(ctx context.Context, run *phaseRun) (res steps.Result, _ error) {
	ph := run.ph
	src := r.Metrics
	if src == nil {
		src = metricsource.Unconfigured{}
	}
	settle := settleWindow(ph)
	now := r.Clock.Now()
	var failure, queryErr error
	measured, verified := 0, 0
	for i := range ph.Status.Items {
		it := &ph.Status.Items[i]
		if it.State != cxv1.ItemClosed || it.OpenedAt == nil || it.ClosedAt == nil {
			it.Outcome = nil // reopened or obsolete: judged again when it closes
			continue
		}
		m, ok := measureFor(run.cj, it.Source)
		if !ok {
			it.Outcome = nil
			continue
		}
		measured++
		w := outcome.WindowsFor(it.OpenedAt.Time, it.ClosedAt.Time, settle)
		verifyAt := metav1.NewTime(w.AfterEnd)
		if o := it.Outcome; o == nil || o.Measure != m.Name || (o.VerifyAt != nil && !o.VerifyAt.Equal(&verifyAt) && o.Verdict == cxv1.VerdictPending) ||
			(o.Verdict != cxv1.VerdictPending && o.VerifiedAt != nil && o.VerifiedAt.Before(it.ClosedAt)) {
			// New, measured differently, or closed again since its verdict.
			it.Outcome = &cxv1.ItemOutcome{Measure: m.Name, Verdict: cxv1.VerdictPending, Direction: m.Direction, VerifyAt: &verifyAt}
		}
		o := it.Outcome
		if o.Verdict == cxv1.VerdictPending {
			if now.Before(w.AfterEnd) {
				o.Message = fmt.Sprintf("%s after the settle window is read at %s", m.Name, w.AfterEnd.UTC().Format(time.RFC3339))
				res = res.Merge(steps.Requeue(w.AfterEnd.Sub(now)))
				continue
			}
			if failure != nil {
				o.Message = truncate("not verified yet: "+failure.Error(), 400)
				continue
			}
			if err := judgeOutcome(ctx, src, ph.Namespace, m, w, o); err != nil {
				o.Message = truncate("not verified yet: "+err.Error(), 400)
				if k := metricsource.KindOf(err); k != metricsource.MultipleSeries && k != metricsource.BadQuery {
					failure = err // Prometheus itself: the other items would fail alike
				} else if queryErr == nil {
					queryErr = fmt.Errorf("measure %s of issue #%d: %w", m.Name, it.Issue, err)
				}
				continue
			}
			verdictAt := metav1.NewTime(now.Truncate(time.Second))
			o.VerifiedAt = &verdictAt
			reportOutcome(run, it)
		}
		if o.Verdict == cxv1.VerdictImproved {
			verified++
		}
		if !ptr.Deref(o.Commented, false) && it.Issue != 0 {
			// Once per verdict, even if cxloop stops between the comment and
			// the status that records it: the comment carries a key of the
			// item and of the close it judges.
			key := fmt.Sprintf("outcome/%s/%d", it.Key, it.ClosedAt.Unix())
			if err := run.tr.CommentOnce(ctx, int(it.Issue), key, outcomeComment(it, m, w)); err != nil {
				// Follow-up work: a completed phase goes on commenting
				// (verifyLateOutcomes), so a comment GitHub keeps refusing
				// (a locked issue) holds back no completion.
				if stop := run.setAsideOne(&githubError{op: fmt.Sprintf("commenting the outcome on issue #%d", it.Issue), err: err, followUp: true}); stop {
					break
				}
				continue
			}
			o.Commented = ptr.To(true)
		}
	}
	switch {
	case measured == 0:
		conditions.Remove(run.conds(), cxv1.ConditionMeasuresReady)
	case failure != nil:
		measureFailedOnPhase(run, failure)
		if metricsource.KindOf(failure) != metricsource.NotConfigured {
			res = res.Merge(steps.Requeue(measureRetry))
		}
	case queryErr != nil:
		measureFailedOnPhase(run, queryErr) // a person must fix the query
	default:
		conditions.Set(run.conds(), run.gen, cxv1.ConditionMeasuresReady, metav1.ConditionTrue, cxv1.ReasonOutcomesRead,
			fmt.Sprintf("%d closed items have a measure, %d verified as improved", measured, verified))
	}
	return res, nil
}

func measureFailedOnPhase(run *phaseRun, err error) {
	conditions.Set(run.conds(), run.gen, cxv1.ConditionMeasuresReady, metav1.ConditionFalse, metricsource.ReasonOf(err), truncate(err.Error(), 1000))
}

// judgeOutcome reads the two windows and records the verdict; an error
// leaves the outcome Pending. No data in either window is a verdict of its
// own (NoData): waiting longer would not bring the past back.
func judgeOutcome(ctx context.Context, src metricsource.Source, namespace string, m cxv1.Measure, w outcome.Windows, o *cxv1.ItemOutcome) error {
	base, err := src.Mean(ctx, namespace, m.Query, w.BaselineStart, w.BaselineEnd)
	if metricsource.KindOf(err) == metricsource.NoData && err != nil {
		o.Verdict, o.Message = cxv1.VerdictNoData, truncate("no baseline: "+err.Error(), 400)
		return nil
	}
	if err != nil {
		return err
	}
	after, err := src.Mean(ctx, namespace, m.Query, w.AfterStart, w.AfterEnd)
	if metricsource.KindOf(err) == metricsource.NoData && err != nil {
		o.Baseline = outcome.Format(base)
		o.Verdict, o.Message = cxv1.VerdictNoData, truncate("no value after the close: "+err.Error(), 400)
		return nil
	}
	if err != nil {
		return err
	}
	tol := float64(outcome.DefaultTolerancePercent)
	if m.TolerancePercent != nil {
		tol = float64(*m.TolerancePercent)
	}
	v := outcome.Judge(base, after, outcome.Direction(m.Direction), tol)
	o.Baseline, o.After = outcome.Format(base), outcome.Format(after)
	o.Verdict = cxv1.Verdict(v)
	o.Message = truncate(outcome.Sentence(m.Name, v, base, after, outcome.Direction(m.Direction))+fmt.Sprintf(", tolerance %g%%", tol), 400)
	return nil
}

// reportOutcome tells the item's verdict (news: told once written).
func reportOutcome(run *phaseRun, it *cxv1.PhaseItem) {
	o := it.Outcome
	switch o.Verdict {
	case cxv1.VerdictWorse:
		run.news.tell(nil, corev1.EventTypeWarning, cxv1.ReasonOutcomeWorse, "Verify", "issue #%d: %s", it.Issue, o.Message)
	case cxv1.VerdictNoData:
		run.news.tell(nil, corev1.EventTypeWarning, cxv1.ReasonOutcomeNoData, "Verify", "issue #%d: %s", it.Issue, o.Message)
	default:
		run.news.tell(nil, corev1.EventTypeNormal, cxv1.ReasonOutcomeVerified, "Verify", "issue #%d: %s", it.Issue, o.Message)
	}
}

// outcomeComment is what cxloop writes on the closed issue.
func outcomeComment(it *cxv1.PhaseItem, m cxv1.Measure, w outcome.Windows) string {
	o := it.Outcome
	var b strings.Builder
	where := "touchpoint **" + it.Source.Touchpoint + "** (stage " + it.Source.Stage + ")"
	switch o.Verdict {
	case cxv1.VerdictImproved:
		fmt.Fprintf(&b, "✅ **Verified: improved.** Customers feel the difference at %s.\n\n", where)
	case cxv1.VerdictUnchanged:
		fmt.Fprintf(&b, "➖ **Verified: unchanged.** The work did not move the measure at %s beyond its tolerance.\n\n", where)
	case cxv1.VerdictWorse:
		fmt.Fprintf(&b, "⚠️ **Verified: worse.** The measure at %s moved the wrong way after this issue closed.\n\n", where)
	default:
		fmt.Fprintf(&b, "❔ **Not verified: no data.** Prometheus has no data to judge this work at %s.\n\n", where)
	}
	fmt.Fprintf(&b, "| Measure | %s (target %s, %s) |\n|---|---|\n", m.Name, m.Target, strings.ToLower(strings.ReplaceAll(string(m.Direction), "Is", " is ")))
	fmt.Fprintf(&b, "| Before (mean %s – %s) | %s |\n", day(w.BaselineStart), day(w.BaselineEnd), orDash(o.Baseline))
	fmt.Fprintf(&b, "| After (mean %s – %s) | %s |\n\n", day(w.AfterStart), day(w.AfterEnd), orDash(o.After))
	b.WriteString(o.Message)
	b.WriteString("\n\n<sub>Written by cxloop once the settle window after the close had passed.</sub>")
	return b.String()
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// measureFor is the measure that judges an item: its pain point's first
// measure, else its touchpoint's first. Discovery's gaps are work on the
// map, not on the experience: no measure judges them.
func measureFor(cj *cxv1.CustomerJourney, src cxv1.ItemSource) (cxv1.Measure, bool) {
	if cj == nil || src.Touchpoint == "" || src.Kind == workitem.KindGap {
		return cxv1.Measure{}, false
	}
	for _, s := range cj.Spec.Stages {
		if s.Name != src.Stage {
			continue
		}
		for _, t := range s.Touchpoints {
			if t.Name != src.Touchpoint {
				continue
			}
			for _, p := range t.PainPoints {
				if p.ID == src.PainPoint && len(p.Measures) > 0 {
					return p.Measures[0], true
				}
			}
			if len(t.Measures) > 0 {
				return t.Measures[0], true
			}
		}
	}
	return cxv1.Measure{}, false
}

func settleWindow(ph *cxv1.ImprovementPhase) time.Duration {
	if ph.Spec.SettleWindow != nil && ph.Spec.SettleWindow.Duration > 0 {
		return ph.Spec.SettleWindow.Duration
	}
	return outcome.DefaultSettleWindow
}
