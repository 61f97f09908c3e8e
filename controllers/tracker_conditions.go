package controllers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/tracker"
)

// trackerFailure turns a tracker error into the conditions the tracker
// owns (TrackerReady, RateLimited), a Warning Event, a verdict in rd and a
// requeue: a rate limit waits until GitHub allows again (no request is
// sent before), a configuration error or a refusal a person must fix
// (bad credentials, unknown repository, issues disabled, validation) waits
// for a change, and other failures back off exponentially.
func trackerFailure(rec events.EventRecorder, clk clock.PassiveClock, obj runtime.Object, conds *[]metav1.Condition, gen int64, err error, rd *readiness) (ctrl.Result, error) {
	var rl *tracker.RateLimitError
	var cfgErr *TrackerConfigError
	var apiErr *tracker.APIError
	switch {
	case errors.As(err, &rl) && rl.Budget:
		// cxloop pacing itself within GitHub's content limits is not a
		// failure: say it, and come back when the budget allows.
		wait := max(time.Second, rl.ResumeAt.Sub(clk.Now()))
		conditions.Set(conds, gen, cxv1.ConditionRateLimited, metav1.ConditionTrue, cxv1.ReasonWriteBudget,
			fmt.Sprintf("%s; the next write is allowed %s", rl.Message, budgetWaitWords(wait)))
		return ctrl.Result{RequeueAfter: wait}, nil
	case errors.As(err, &rl):
		msg := fmt.Sprintf("GitHub rate limit: resuming at %s", rl.ResumeAt.UTC().Format(time.RFC3339))
		if !conditions.IsTrue(*conds, cxv1.ConditionRateLimited) {
			rec.Eventf(obj, nil, corev1.EventTypeWarning, cxv1.ReasonRateLimited, "Wait", msg)
		}
		conditions.Set(conds, gen, cxv1.ConditionRateLimited, metav1.ConditionTrue, cxv1.ReasonRateLimited, msg)
		rd.Progress(cxv1.ReasonRateLimited, msg)
		return ctrl.Result{RequeueAfter: max(time.Second, rl.ResumeAt.Sub(clk.Now()))}, nil
	case errors.As(err, &cfgErr) && cfgErr.Waiting:
		// Heals on its own (the Secret's creation wakes the journey): not
		// Stalled, which would make kstatus readers give up.
		if !conditionIs(*conds, cxv1.ConditionTrackerReady, metav1.ConditionFalse, cfgErr.Reason) {
			rec.Eventf(obj, nil, corev1.EventTypeNormal, cfgErr.Reason, "Wait", "%s", cfgErr.Message)
		}
		conditions.Set(conds, gen, cxv1.ConditionTrackerReady, metav1.ConditionFalse, cfgErr.Reason, cfgErr.Message)
		rd.Progress(cfgErr.Reason, cfgErr.Message)
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	case errors.As(err, &cfgErr):
		trackerDown(rec, obj, conds, gen, cfgErr.Reason, cfgErr.Message, rd)
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden && apiErr.Reason == cxv1.ReasonForbidden:
		// A person must grant the permission; cxloop tries again now and
		// then, and never gives the work up as obsolete meanwhile.
		msg := fmt.Sprintf("%s: GitHub answered 403: the credentials need the Issues permission, read & write (fine-grained token or GitHub App), or the repo scope (classic token); cxloop tries again every 5 minutes", operationOf(err))
		trackerDown(rec, obj, conds, gen, cxv1.ReasonGitHubPermissionDenied, msg, rd)
		return ctrl.Result{RequeueAfter: 5 * time.Minute}, nil
	case errors.As(err, &apiErr) && !apiErr.Retryable():
		trackerDown(rec, obj, conds, gen, apiErr.Reason, apiErr.Error(), rd)
		return ctrl.Result{RequeueAfter: 5 * time.Minute}, nil
	}
	reason := tracker.Reason(err)
	conditions.Set(conds, gen, cxv1.ConditionTrackerReady, metav1.ConditionFalse, reason, err.Error())
	rd.Progress(reason, err.Error())
	rec.Eventf(obj, nil, corev1.EventTypeWarning, reason, "Sync", "%s", err.Error())
	return ctrl.Result{}, err // githubRetries.retry backs off from it
}

// operationOf names what cxloop was doing when err happened.
func operationOf(err error) string {
	var ghErr *githubError
	if errors.As(err, &ghErr) {
		return ghErr.op
	}
	return "talking to GitHub"
}

// budgetWaitWords says roughly when the write budget allows the next
// write. Coarse on purpose: the exact seconds are the metric
// cxloop_github_write_budget_next_write_seconds.
func budgetWaitWords(d time.Duration) string {
	for _, b := range budgetBands {
		if d <= b.upTo {
			return b.words
		}
	}
	return fmt.Sprintf("in about %d hours", int(d.Round(time.Hour)/time.Hour))
}

var budgetBands = []struct {
	upTo  time.Duration
	words string
}{
	{time.Minute, "within a minute"},
	{5 * time.Minute, "within 5 minutes"},
	{15 * time.Minute, "within 15 minutes"},
	{time.Hour, "within the hour"},
	{90*time.Minute - 1, "in about an hour"},
}

// budgetWaitMessage is RateLimited's message while planned items wait d
// for the write budget. A wait that goes on (the same items planned)
// keeps the words it started with, as long as they stay true ("within 5
// minutes" still holds a minute later, the wait having shrunk): a phase
// only waiting writes nothing, however often it syncs. New words come
// with a change worth writing (an issue opened) or a wait longer than
// the words said.
func budgetWaitMessage(persisted []metav1.Condition, planned int32, d time.Duration) string {
	lead := fmt.Sprintf("%d planned items wait for the write budget of this GitHub token; the next write is allowed ", planned)
	if c := apimeta.FindStatusCondition(persisted, cxv1.ConditionRateLimited); c != nil && c.Status == metav1.ConditionTrue && c.Reason == cxv1.ReasonWriteBudget &&
		strings.HasPrefix(c.Message, lead) {
		said := strings.TrimPrefix(c.Message, lead)
		for _, b := range budgetBands {
			if said == b.words && d <= b.upTo {
				return c.Message
			}
		}
	}
	return lead + budgetWaitWords(d)
}

func trackerDown(rec events.EventRecorder, obj runtime.Object, conds *[]metav1.Condition, gen int64, reason, msg string, rd *readiness) {
	if !conditionIs(*conds, cxv1.ConditionTrackerReady, metav1.ConditionFalse, reason) {
		rec.Eventf(obj, nil, corev1.EventTypeWarning, reason, "Sync", "%s", msg)
	}
	conditions.Set(conds, gen, cxv1.ConditionTrackerReady, metav1.ConditionFalse, reason, msg)
	rd.Stall(reason, msg)
}

// trackerConnected records that GitHub answers and no limit holds.
func trackerConnected(conds *[]metav1.Condition, gen int64) {
	conditions.Set(conds, gen, cxv1.ConditionTrackerReady, metav1.ConditionTrue, cxv1.ReasonConnected, trackerConnectedMessage)
	conditions.Remove(conds, cxv1.ConditionRateLimited)
}

const trackerConnectedMessage = "GitHub answers with the configured credentials"

// githubRetries backs each object off on its own after GitHub failures that
// may pass (an outage, a timeout): a jittered exponential backoff from
// firstRetry to lastRetry. The failure becomes a RequeueAfter, not an error
// for the workqueue, whose own backoff grows to ~16 minutes and which
// setup.go keeps for failures of the API server. The zero value is ready.
type githubRetries struct {
	once sync.Once
	b    *flowcontrol.Backoff
}

func (g *githubRetries) backoff(clk clock.PassiveClock) *flowcontrol.Backoff {
	g.once.Do(func() {
		if c, ok := clk.(clock.Clock); ok {
			g.b = flowcontrol.NewFakeBackOffWithJitter(firstRetry, lastRetry, c, 0.2)
		} else {
			g.b = flowcontrol.NewBackOffWithJitter(firstRetry, lastRetry, 0.2)
		}
	})
	return g.b
}

// retry turns a GitHub failure into conditions, an Event, a verdict in rd
// and a requeue, as trackerFailure does; a failure that may pass waits for
// key's next backoff step, at most limit, and is not returned.
func (g *githubRetries) retry(rec events.EventRecorder, clk clock.PassiveClock, key string, limit time.Duration, obj runtime.Object, conds *[]metav1.Condition, gen int64, err error, rd *readiness) (ctrl.Result, error) {
	res, err := trackerFailure(rec, clk, obj, conds, gen, err, rd)
	var k8sErr apierrors.APIStatus
	if err == nil || errors.As(err, &k8sErr) {
		return res, err // the failure said when, or the API server failed: the workqueue's
	}
	b := g.backoff(clk)
	b.Next(key, b.Clock.Now())
	wait := min(b.Get(key), limit)
	reason := tracker.Reason(err)
	msg := fmt.Sprintf("%s; retrying in %s", err.Error(), wait.Round(time.Second))
	conditions.Set(conds, gen, cxv1.ConditionTrackerReady, metav1.ConditionFalse, reason, msg)
	rd.Progress(reason, msg)
	return ctrl.Result{RequeueAfter: wait}, nil
}

// succeeded starts key's backoff over: GitHub answered.
func (g *githubRetries) succeeded(clk clock.PassiveClock, key string) { g.backoff(clk).Reset(key) }
