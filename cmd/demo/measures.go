package main

import (
	"context"
	"os"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/metricsource/promtest"
)

// The demo's measured touchpoint: the website's home page, whose quick win
// (family-info-hidden) is the first the product owner closes. The web
// survey's CSAT sits at 3.2 until the fix goes live and at 4.4 after.
const (
	measuredStage      = "inspiration"
	measuredTouchpoint = "website-home"
	measuredQuickWin   = "painpoint/family-info-hidden"
	csatBefore         = 3.2
	csatAfter          = 4.4
)

// The story's timeline on the simulated clock, from its start: Improve opens
// the quick wins after 11 days (6 + 5 in Discovery) and the first one is
// closed 9 days later. The fix rolls out over the last days before the close.
const (
	rolloutStarts = 14 * day
	firstClose    = 20 * day
)

// csatHistory is the survey's CSAT at website-home, every 10 minutes, from
// two weeks before the story until today.
func csatHistory(storyStart time.Time) []promtest.Series {
	f := func(t time.Time) float64 {
		switch d := t.Sub(storyStart); {
		case d < rolloutStarts:
			return csatBefore
		case d >= firstClose:
			return csatAfter
		default:
			return csatBefore + (csatAfter-csatBefore)*float64(d-rolloutStarts)/float64(firstClose-rolloutStarts)
		}
	}
	return []promtest.Series{{
		Name:    "cx_touchpoint_csat",
		Labels:  map[string]string{"touchpoint": measuredTouchpoint, "source": "web-survey"},
		Samples: promtest.Every(storyStart.Add(-2*7*day), time.Now(), 10*time.Minute, f),
	}}
}

// startPrometheus backfills the CSAT history with promtool and starts a
// local Prometheus on it. Without Debian's prometheus package the demo goes
// on without measures; stop is then a no-op.
func (dm *demo) startPrometheus() (src metricsource.Source, url string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "cxloop-demo-prometheus-")
	if err != nil {
		return nil, "", func() {}, err
	}
	prom, err := promtest.Launch(dir, promtest.Options{Series: csatHistory(dm.sim.Now())})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", func() {}, err
	}
	stop = func() { prom.Stop(); _ = os.RemoveAll(dir) }
	s, err := metricsource.New(metricsource.Config{Address: prom.URL, Timeout: 10 * time.Second})
	if err != nil {
		stop()
		return nil, "", func() {}, err
	}
	return s, prom.URL, stop, nil
}

// measure declares the website's CSAT on the journey, as a platform
// engineer would in the map.
func measure(cj *cxv1.CustomerJourney) {
	for si := range cj.Spec.Stages {
		for ti := range cj.Spec.Stages[si].Touchpoints {
			if tp := &cj.Spec.Stages[si].Touchpoints[ti]; cj.Spec.Stages[si].Name == measuredStage && tp.Name == measuredTouchpoint {
				tp.Measures = []cxv1.Measure{{Name: "csat", Query: `avg(cx_touchpoint_csat{touchpoint="website-home"})`, Target: "4", Direction: cxv1.HigherIsBetter}}
			}
		}
	}
}

// verifiedOutcome waits for cxloop to judge the measured quick win and tells it.
func (dm *demo) verifiedOutcome(ctx context.Context) error {
	var it cxv1.PhaseItem
	if err := dm.waitFor(ctx, "cxloop verifies the website quick win against Prometheus", func() (bool, string, error) {
		ph, err := dm.phase(ctx, "nature-park-improve")
		if err != nil {
			return false, "", err
		}
		it = itemByKey(ph, measuredQuickWin)
		if it.Outcome == nil {
			return false, "no outcome yet", nil
		}
		return it.Outcome.Verdict != cxv1.VerdictPending && it.Outcome.Commented != nil && *it.Outcome.Commented, string(it.Outcome.Verdict) + ": " + it.Outcome.Message, nil
	}); err != nil {
		return err
	}
	o := it.Outcome
	dm.step("Did it help? Seven days after #%d closed (the phase's settleWindow), cxloop read website-home's", it.Issue)
	dm.step("CSAT in Prometheus: %s — outcome %s, before %s, after %s.", o.Message, o.Verdict, o.Baseline, o.After)
	if is, ok := dm.ghIssue(int(it.Issue)); ok && len(is.Comments) > 0 {
		dm.step("It said so on the closed issue #%d: %q", it.Issue, firstLine(is.Comments[len(is.Comments)-1]))
	}
	return nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
