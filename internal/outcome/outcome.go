// Package outcome judges whether a piece of work made the difference the
// customer should feel: a measure's value before the work against its value
// after, in the direction that is better, within a tolerance. It also says
// whether a value meets its target and by how much it misses it, for the
// map's gaps and health score. It knows nothing of Kubernetes or Prometheus.
package outcome

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Direction is which way a measure should move.
type Direction string

const (
	// HigherIsBetter: CSAT, NPS.
	HigherIsBetter Direction = "HigherIsBetter"
	// LowerIsBetter: effort, drop-off, contact rate.
	LowerIsBetter Direction = "LowerIsBetter"
)

// Verdict is the outcome of a comparison.
type Verdict string

const (
	Improved  Verdict = "Improved"
	Unchanged Verdict = "Unchanged"
	Worse     Verdict = "Worse"
)

// DefaultTolerancePercent is the change, in percent of the baseline, within
// which an outcome is Unchanged when a measure does not say.
const DefaultTolerancePercent = 5

// DefaultSettleWindow is how long after a close the measure is read again,
// and how long before the open the baseline is taken over.
const DefaultSettleWindow = 7 * 24 * time.Hour

// Judge compares the value after the work with the baseline before it.
// A change of at most tolerancePercent of |baseline| is Unchanged; with a
// baseline of 0 the tolerance is taken of |after| instead, so that a move
// away from zero by any real amount counts.
func Judge(baseline, after float64, dir Direction, tolerancePercent float64) Verdict {
	delta := after - baseline
	if dir == LowerIsBetter {
		delta = -delta
	}
	scale := math.Abs(baseline)
	if scale == 0 {
		scale = math.Abs(after)
	}
	// The epsilon keeps a change of exactly the tolerance (4.0 → 4.2 at 5%)
	// Unchanged despite binary fractions.
	if math.Abs(delta) <= scale*tolerancePercent/100+1e-9*math.Max(1, scale) {
		return Unchanged
	}
	if delta > 0 {
		return Improved
	}
	return Worse
}

// MeetsTarget reports whether value is on the better side of target (or on it).
func MeetsTarget(value, target float64, dir Direction) bool {
	if dir == LowerIsBetter {
		return value <= target
	}
	return value >= target
}

// Shortfall is how far value misses target, relative to |target|, from 0
// (meets it) to 1 (misses it by its own size or more). A target of 0
// makes any miss a shortfall of 1.
func Shortfall(value, target float64, dir Direction) float64 {
	miss := target - value
	if dir == LowerIsBetter {
		miss = value - target
	}
	if miss <= 0 {
		return 0
	}
	if target == 0 {
		return 1
	}
	return math.Min(1, miss/math.Abs(target))
}

// Windows are the two stretches of time an outcome compares.
type Windows struct {
	// BaselineStart..BaselineEnd is the settle window before the issue was opened.
	BaselineStart, BaselineEnd time.Time
	// AfterStart..AfterEnd is the settle window after the issue was closed;
	// the verdict can be reached at AfterEnd.
	AfterStart, AfterEnd time.Time
}

// WindowsFor places the baseline before opened and the after window after closed.
func WindowsFor(opened, closed time.Time, settle time.Duration) Windows {
	if settle <= 0 {
		settle = DefaultSettleWindow
	}
	return Windows{BaselineStart: opened.Add(-settle), BaselineEnd: opened, AfterStart: closed, AfterEnd: closed.Add(settle)}
}

// ParseNumber reads a target written as a decimal number.
func ParseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// Format writes a measured value for people: at most three decimals, no
// trailing zeros ("4.2", "0.05", "120").
func Format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	r := math.Round(v*1000) / 1000
	if r == 0 {
		r = 0 // no "-0"
	}
	if math.Abs(r) >= 1e15 {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// Sentence says a verdict for a person, with both numbers.
func Sentence(measure string, v Verdict, baseline, after float64, dir Direction) string {
	better := "higher is better"
	if dir == LowerIsBetter {
		better = "lower is better"
	}
	switch v {
	case Improved:
		return fmt.Sprintf("%s improved from %s to %s (%s)", measure, Format(baseline), Format(after), better)
	case Worse:
		return fmt.Sprintf("%s got worse, from %s to %s (%s)", measure, Format(baseline), Format(after), better)
	}
	return fmt.Sprintf("%s is unchanged: %s before, %s after (%s)", measure, Format(baseline), Format(after), better)
}
