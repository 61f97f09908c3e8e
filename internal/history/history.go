// Package history keeps a journey's short score history: a bounded list of
// points, each recorded when the journey's figures change, at most once per
// interval. It has no Kubernetes imports; the controller stores the points in
// the CustomerJourney's status, so the history lives in the API server and
// survives restarts without a database.
//
// The bound. A point is about 130 bytes of JSON, so DefaultMaxPoints (60)
// points add at most ~8 KB to the object, which every watch event and every
// list of journeys carries; 60 points are also what a chart a few hundred
// pixels wide can show distinctly. When the list is full, Thin drops the
// point whose neighbours are closest in time, so the history always spans
// from the first point recorded to the latest, with its resolution spread
// evenly over that span instead of forgetting the oldest months.
package history

import (
	"math"
	"time"

	"github.com/cxloop/cxloop/internal/journey"
)

// DefaultMaxPoints bounds the history: see the package comment.
const DefaultMaxPoints = 60

// DefaultMinInterval is the least time between two points: a burst of map
// edits yields one point, not one per edit.
const DefaultMinInterval = time.Hour

// Point is the journey's figures at one time.
type Point struct {
	At time.Time
	// Health is the health score, 0-100.
	Health int
	// Touchpoints is the number of touchpoints in the map.
	Touchpoints int
	// Gaps is the number of gaps of the map.
	Gaps int
	// OpenPainPoints counts the pain points whose work is not closed.
	OpenPainPoints int
	// EmotionGap is the mean distance from today's feeling (as-is) to the
	// target (to-be), over the experiences with a target, in hundredths of a
	// step of the -2…+2 scale: mean(max(0, target−score))·100. 0 when no
	// experience has a target.
	EmotionGap int
}

// SameFigures reports whether p and q hold the same figures, whatever their times.
func (p Point) SameFigures(q Point) bool {
	p.At, q.At = time.Time{}, time.Time{}
	return p == q
}

// Measure takes the figures of map m at time at. health and gaps are the
// analytics' results; resolved holds the pain points whose work is closed.
func Measure(at time.Time, m journey.Map, health, gaps int, resolved map[string]bool) Point {
	p := Point{At: at, Health: health, Gaps: gaps}
	var gapSum float64
	targets := 0
	for _, s := range m.Stages {
		p.Touchpoints += len(s.Touchpoints)
		for _, t := range s.Touchpoints {
			for _, e := range t.Experiences {
				if e.Target == nil {
					continue
				}
				targets++
				gapSum += math.Max(0, float64(clamp(*e.Target)-clamp(e.Score)))
			}
			for _, pp := range t.PainPoints {
				if !resolved[pp.ID] {
					p.OpenPainPoints++
				}
			}
		}
	}
	if targets > 0 {
		p.EmotionGap = int(math.Round(100 * gapSum / float64(targets)))
	}
	return p
}

func clamp(v int) int { return min(max(v, -2), 2) }

// Policy bounds the history. Zero fields take the defaults.
type Policy struct {
	// MaxPoints is the most points kept (at least 2).
	MaxPoints int
	// MinInterval is the least time between two recorded points.
	MinInterval time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.MaxPoints <= 0 {
		p.MaxPoints = DefaultMaxPoints
	}
	p.MaxPoints = max(p.MaxPoints, 2)
	if p.MinInterval <= 0 {
		p.MinInterval = DefaultMinInterval
	}
	return p
}

// Record appends now to points when its figures differ from the latest
// point's and at least the interval has passed since it, then thins the
// history to the bound. It returns the history (points itself when nothing
// was recorded), whether now was recorded, and, when the figures changed but
// the interval has not passed yet, how long to wait before recording them.
// points are in time order; Record never reorders them.
func Record(points []Point, now Point, pol Policy) (out []Point, recorded bool, wait time.Duration) {
	pol = pol.withDefaults()
	if n := len(points); n > 0 {
		last := points[n-1]
		if last.SameFigures(now) {
			return points, false, 0
		}
		if since := now.At.Sub(last.At); since < pol.MinInterval {
			// A clock that went back waits at most one interval.
			return points, false, min(pol.MinInterval-since, pol.MinInterval)
		}
	}
	out = make([]Point, 0, len(points)+1)
	out = append(out, points...)
	out = append(out, now)
	return Thin(out, pol.MaxPoints), true, 0
}

// Thin drops points until at most max remain (max is at least 2). It keeps
// the first and the last point, and each time drops the inner point whose
// neighbours are closest in time (the earliest such point on a tie), so the
// points left are spread evenly over the whole span.
func Thin(points []Point, max int) []Point {
	if max < 2 {
		max = 2
	}
	if len(points) > max {
		points = append([]Point(nil), points...) // the caller's slice is left as it is
	}
	for len(points) > max {
		best, bestSpan := 1, time.Duration(math.MaxInt64)
		for i := 1; i < len(points)-1; i++ {
			if span := points[i+1].At.Sub(points[i-1].At); span < bestSpan {
				best, bestSpan = i, span
			}
		}
		points = append(points[:best], points[best+1:]...)
	}
	return points
}
