package controllers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/outcome"
)

// querySource answers Query by query text.
type querySource struct {
	values map[string]float64
	errs   map[string]error
	asked  []string
}

func (q *querySource) Query(_ context.Context, _, promql string, _ time.Time) (float64, error) {
	q.asked = append(q.asked, promql)
	if err := q.errs[promql]; err != nil {
		return 0, err
	}
	return q.values[promql], nil
}

func (q *querySource) Mean(context.Context, string, string, time.Time, time.Time) (float64, error) {
	return 0, nil
}

func TestReadMeasures(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	cj := measuredJourney() // csat at phone-reservation, wait-seconds on its pain point phone-queue
	cj.Spec.Stages[0].Touchpoints[1].Measures = []cxv1.Measure{{Name: "reads", Query: "sum(reads)", Target: "100", Direction: cxv1.HigherIsBetter}}
	src := &querySource{values: map[string]float64{"avg(csat)": 3.14159, "max(wait)": 90}, errs: map[string]error{
		"sum(reads)": &metricsource.Error{Kind: metricsource.NoData, Message: "no data at 2026-11-30T06:00:00Z"},
	}}
	wait := readMeasures(context.Background(), src, cj, at)
	if wait < 4*time.Minute || wait > 6*time.Minute {
		t.Errorf("read again in %s, want about 5m", wait)
	}
	got := cj.Status.Measures
	if len(got) != 3 {
		t.Fatalf("measures %+v", got)
	}
	want := []struct {
		name, painPoint, value string
		state                  cxv1.MeasureState
	}{{"csat", "", "3.142", cxv1.MeasureMissesTarget}, {"wait-seconds", "phone-queue", "90", cxv1.MeasureMeetsTarget}, {"reads", "", "", cxv1.MeasureNoData}}
	for i, w := range want {
		if m := got[i]; m.Name != w.name || m.PainPoint != w.painPoint || m.Value != w.value || m.State != w.state || m.Time == nil {
			t.Errorf("measure %d = %+v, want %+v", i, m, w)
		}
	}
	c := findCondition(cj.Status.Conditions, cxv1.ConditionMeasuresReady)
	if c == nil || c.Status != metav1.ConditionTrue || c.Message != "3 measures read from Prometheus: 1 miss their targets, 1 have no data" {
		t.Errorf("condition %+v", c)
	}

	// An unchanged reading an hour later writes nothing new.
	before := cj.Status.DeepCopy()
	readMeasures(context.Background(), src, cj, at.Add(time.Hour))
	if !before.Measures[0].Time.Equal(cj.Status.Measures[0].Time) {
		t.Error("an unchanged value moved its time")
	}

	// Prometheus down: the last values are kept, marked Error; the rest is not asked.
	src.asked = nil
	src.errs["avg(csat)"] = &metricsource.Error{Kind: metricsource.Unavailable, Message: "Prometheus at http://p cannot be reached: connection refused"}
	wait = readMeasures(context.Background(), src, cj, at.Add(2*time.Hour))
	if len(src.asked) != 1 {
		t.Errorf("asked %v after Prometheus failed", src.asked)
	}
	if m := cj.Status.Measures[0]; m.State != cxv1.MeasureError || m.Value != "3.142" || m.Message == "" {
		t.Errorf("csat while down: %+v", m)
	}
	if m := cj.Status.Measures[1]; m.State != cxv1.MeasureError || m.Value != "90" {
		t.Errorf("wait-seconds while down: %+v", m)
	}
	if c := findCondition(cj.Status.Conditions, cxv1.ConditionMeasuresReady); c.Status != metav1.ConditionFalse || c.Reason != cxv1.ReasonPrometheusUnavailable {
		t.Errorf("condition while down: %+v", c)
	}
	if wait > 2*time.Minute {
		t.Errorf("retry in %s while down", wait)
	}
	// The last values still count in the map.
	m := measuredMap(cj)
	if r := m.Stages[0].Touchpoints[0].Readings; len(r) != 2 || r[0].Value != 3.142 {
		t.Errorf("readings %+v", r)
	}

	// Not configured: said once, no retry loop.
	cj.Status = cxv1.CustomerJourneyStatus{}
	if wait := readMeasures(context.Background(), nil, cj, at); wait != 0 {
		t.Errorf("retry in %s without Prometheus", wait)
	}
	if c := findCondition(cj.Status.Conditions, cxv1.ConditionMeasuresReady); c == nil || c.Reason != cxv1.ReasonPrometheusNotConfigured {
		t.Errorf("condition without Prometheus: %+v", c)
	}

	// A map without measures has no condition and no readings.
	plain := sampleJourneySpecOnly()
	plain.Status.Conditions = cj.Status.Conditions
	if wait := readMeasures(context.Background(), src, plain, at); wait != 0 || plain.Status.Measures != nil || findCondition(plain.Status.Conditions, cxv1.ConditionMeasuresReady) != nil {
		t.Errorf("a map without measures: %s %+v", wait, plain.Status)
	}
}

func sampleJourneySpecOnly() *cxv1.CustomerJourney {
	return &cxv1.CustomerJourney{Spec: cxv1.CustomerJourneySpec{Stages: []cxv1.Stage{{Name: "s", Touchpoints: []cxv1.Touchpoint{{Name: "t"}}}}}}
}

// TestReadingsJudgedAgainstSpec: status.measures holds only what was read;
// the target and direction come from the map, so that a target edited in
// the map judges the last reading at once, and a measure taken out of the
// map no longer counts.
func TestReadingsJudgedAgainstSpec(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	cj := measuredJourney() // csat at phone-reservation, wait-seconds on its pain point phone-queue
	src := &querySource{values: map[string]float64{"avg(csat)": 3.5, "max(wait)": 90}}
	readMeasures(context.Background(), src, cj, at)
	raw, err := json.Marshal(cj.Status.Measures)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "target") || strings.Contains(string(raw), "direction") {
		t.Errorf("status.measures repeats the spec: %s", raw)
	}
	csat := func(m journey.Map) *journey.Reading {
		for _, r := range m.Stages[0].Touchpoints[0].Readings {
			if r.Measure == "csat" {
				return &r
			}
		}
		return nil
	}
	tp := &cj.Spec.Stages[0].Touchpoints[0]
	if r := csat(measuredMap(cj)); r == nil || r.Target != 4 || r.Direction != outcome.HigherIsBetter {
		t.Fatalf("csat reading %+v, want target 4 HigherIsBetter from the spec", r)
	}
	tp.Measures[0].Target = "3.25"
	if r := csat(measuredMap(cj)); r == nil || r.Target != 3.25 {
		t.Errorf("csat reading %+v after the target was edited to 3.25", r)
	}
	tp.Measures = nil
	if r := csat(measuredMap(cj)); r != nil {
		t.Errorf("a measure taken out of the map still counts: %+v", r)
	}
}
