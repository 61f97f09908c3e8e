package controllers

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/outcome"
)

const (
	// measureInterval is how often a journey's measures are read again.
	measureInterval = 5 * time.Minute
	// measureRetry is how soon they are read again after Prometheus failed.
	measureRetry = time.Minute
)

// declaredMeasure is one measure of the map and where it is declared.
type declaredMeasure struct {
	stage, touchpoint, painPoint string
	// field is the path of its query in the spec, named when it is refused.
	field string
	cxv1.Measure
}

// measuresOf lists the map's measures in map order: each touchpoint's own,
// then its pain points'.
func measuresOf(spec *cxv1.CustomerJourneySpec) []declaredMeasure {
	var out []declaredMeasure
	for si, s := range spec.Stages {
		for ti, t := range s.Touchpoints {
			at := fmt.Sprintf("spec.stages[%d].touchpoints[%d]", si, ti)
			for mi, m := range t.Measures {
				out = append(out, declaredMeasure{stage: s.Name, touchpoint: t.Name, field: fmt.Sprintf("%s.measures[%d].query", at, mi), Measure: m})
			}
			for pi, p := range t.PainPoints {
				for mi, m := range p.Measures {
					out = append(out, declaredMeasure{stage: s.Name, touchpoint: t.Name, painPoint: p.ID, field: fmt.Sprintf("%s.painPoints[%d].measures[%d].query", at, pi, mi), Measure: m})
				}
			}
		}
	}
	return out
}

// readMeasures reads the latest value of each measure of the map from
// Prometheus into status.measures and sets MeasuresReady. A failure of
// Prometheus (down, timeout, credentials refused) keeps each measure's last
// value, marked Error, and stops asking for the rest: they would fail alike.
// It returns when to read again; 0 for a map without measures.
func readMeasures(ctx context.Context, src metricsource.Source, cj *cxv1.CustomerJourney, at time.Time) time.Duration {
	declared := measuresOf(&cj.Spec)
	if len(declared) == 0 {
		cj.Status.Measures = nil
		conditions.Remove(&cj.Status.Conditions, cxv1.ConditionMeasuresReady)
		return 0
	}
	if src == nil {
		src = metricsource.Unconfigured{}
	}
	previous := map[string]cxv1.MeasureStatus{}
	for _, ms := range cj.Status.Measures {
		previous[measureID(ms.Stage, ms.Touchpoint, ms.PainPoint, ms.Name)] = ms
	}
	var failure, queryErr error
	missed, noData := 0, 0
	out := make([]cxv1.MeasureStatus, 0, len(declared))
	for _, d := range declared {
		ms := cxv1.MeasureStatus{Stage: d.stage, Touchpoint: d.touchpoint, PainPoint: d.painPoint, Name: d.Name}
		prev, had := previous[measureID(d.stage, d.touchpoint, d.painPoint, d.Name)]
		var v float64
		err := failure
		if err == nil {
			v, err = src.Query(ctx, cj.Namespace, d.Query, at)
		}
		switch {
		case err == nil:
			target, _ := outcome.ParseNumber(d.Target) // admission checked it is a number
			ms.Value = outcome.Format(v)
			ms.State = cxv1.MeasureMeetsTarget
			if !outcome.MeetsTarget(v, target, outcome.Direction(d.Direction)) {
				ms.State = cxv1.MeasureMissesTarget
				missed++
			}
		case metricsource.KindOf(err) == metricsource.NoData:
			ms.State = cxv1.MeasureNoData
			ms.Message = truncate(err.Error(), 400)
			noData++
		default:
			ms.State = cxv1.MeasureError
			ms.Message = truncate(err.Error(), 400)
			if had {
				ms.Value = prev.Value // the last value known still counts
			}
			switch metricsource.KindOf(err) {
			case metricsource.MultipleSeries, metricsource.BadQuery:
				// This query's own problem: the others may still be read.
				if queryErr == nil {
					queryErr = fmt.Errorf("measure %s at touchpoint %s (%s): %w", d.Name, d.touchpoint, d.field, err)
				}
			default:
				failure = err
			}
		}
		// time says since when the value holds, so that an unchanged
		// reading writes nothing.
		ms.Time = prev.Time
		if !had || prev.Value != ms.Value || prev.State != ms.State || ms.Time == nil {
			t := metav1.NewTime(at.Truncate(time.Second))
			ms.Time = &t
		}
		out = append(out, ms)
	}
	cj.Status.Measures = out
	if failure != nil {
		measureFailed(cj, failure)
		if metricsource.KindOf(failure) == metricsource.NotConfigured {
			return 0 // only a restart with --prometheus-address changes that
		}
		return wait.Jitter(measureRetry, 0.1)
	}
	if queryErr != nil {
		measureFailed(cj, queryErr) // a person must fix the query; reading it again sooner would not help
		return wait.Jitter(measureInterval, 0.1)
	}
	conditions.Set(&cj.Status.Conditions, cj.Generation, cxv1.ConditionMeasuresReady, metav1.ConditionTrue, cxv1.ReasonMeasuresRead,
		fmt.Sprintf("%d measures read from Prometheus: %d miss their targets, %d have no data", len(out), missed, noData))
	return wait.Jitter(measureInterval, 0.1)
}

func measureFailed(cj *cxv1.CustomerJourney, err error) {
	conditions.Set(&cj.Status.Conditions, cj.Generation, cxv1.ConditionMeasuresReady, metav1.ConditionFalse, metricsource.ReasonOf(err), truncate(err.Error(), 1000))
}

func measureID(stage, touchpoint, painPoint, name string) string {
	return stage + "/" + touchpoint + "/" + painPoint + "/" + name
}

// measuredMap is the journey's map with the latest readings of its measures
// (status.measures) on its touchpoints: they drive the health score and the
// MeasureMissesTarget gaps.
func measuredMap(cj *cxv1.CustomerJourney) journey.Map {
	return withReadings(journeyMap(&cj.Spec), &cj.Spec, cj.Status.Measures)
}

// withReadings puts the readings of status.measures on the map's
// touchpoints, each judged against its target and direction in spec: a
// reading of a measure the map no longer declares is left out.
func withReadings(m journey.Map, spec *cxv1.CustomerJourneySpec, measures []cxv1.MeasureStatus) journey.Map {
	if len(measures) == 0 {
		return m
	}
	declared := map[string]declaredMeasure{}
	for _, d := range measuresOf(spec) {
		declared[measureID(d.stage, d.touchpoint, d.painPoint, d.Name)] = d
	}
	byTouchpoint := map[string][]journey.Reading{}
	for _, ms := range measures {
		d, ok := declared[measureID(ms.Stage, ms.Touchpoint, ms.PainPoint, ms.Name)]
		if ms.Value == "" || !ok {
			continue
		}
		v, err1 := outcome.ParseNumber(ms.Value)
		target, err2 := outcome.ParseNumber(d.Target)
		if err1 != nil || err2 != nil {
			continue
		}
		k := ms.Stage + "/" + ms.Touchpoint
		byTouchpoint[k] = append(byTouchpoint[k], journey.Reading{Measure: ms.Name, PainPoint: ms.PainPoint, Value: v, Target: target, Direction: outcome.Direction(d.Direction)})
	}
	for si := range m.Stages {
		s := &m.Stages[si]
		for ti := range s.Touchpoints {
			s.Touchpoints[ti].Readings = byTouchpoint[s.Name+"/"+s.Touchpoints[ti].Name]
		}
	}
	return m
}
