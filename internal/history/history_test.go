package history

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/journey"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func pt(at time.Time, health int) Point {
	return Point{At: at, Health: health, Touchpoints: 15, Gaps: 2, OpenPainPoints: 7, EmotionGap: 125}
}

func TestRecord(t *testing.T) {
	hour := time.Hour
	tests := []struct {
		name         string
		points       []Point
		now          Point
		wantRecorded bool
		wantWait     time.Duration
		wantLen      int
	}{
		{"first point is always recorded", nil, pt(t0, 50), true, 0, 1},
		{"same figures are not recorded, however late", []Point{pt(t0, 50)}, pt(t0.Add(90*24*hour), 50), false, 0, 1},
		{"changed figures after the interval are recorded", []Point{pt(t0, 50)}, pt(t0.Add(hour), 55), true, 0, 2},
		{"changed figures within the interval wait for the rest of it", []Point{pt(t0, 50)}, pt(t0.Add(20*time.Minute), 55), false, 40 * time.Minute, 1},
		{"a change in any figure counts", []Point{pt(t0, 50)}, func() Point { p := pt(t0.Add(2*hour), 50); p.Gaps = 1; return p }(), true, 0, 2},
		{"a clock that went back waits one interval at most", []Point{pt(t0, 50)}, pt(t0.Add(-5*hour), 55), false, hour, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]Point(nil), tc.points...)
			out, recorded, wait := Record(in, tc.now, Policy{})
			if recorded != tc.wantRecorded || wait != tc.wantWait || len(out) != tc.wantLen {
				t.Fatalf("Record = %d points, recorded %v, wait %v; want %d, %v, %v", len(out), recorded, wait, tc.wantLen, tc.wantRecorded, tc.wantWait)
			}
			if recorded && out[len(out)-1] != tc.now {
				t.Errorf("last point %+v, want %+v", out[len(out)-1], tc.now)
			}
			for i := range tc.points {
				if in[i] != tc.points[i] {
					t.Errorf("Record changed the caller's point %d", i)
				}
			}
		})
	}
}

// TestRecordBound builds two years of hourly-changing figures in
// milliseconds and checks the bound holds at every step, the span is kept
// and the points are spread over it.
func TestRecordBound(t *testing.T) {
	for _, max := range []int{2, 5, 60} {
		t.Run(fmt.Sprintf("max %d", max), func(t *testing.T) {
			var pts []Point
			now := t0
			end := t0.AddDate(2, 0, 0)
			for i := 0; now.Before(end); i++ {
				var recorded bool
				pts, recorded, _ = Record(pts, pt(now, i%101), Policy{MaxPoints: max, MinInterval: time.Hour})
				if !recorded {
					t.Fatalf("step %d at %s not recorded", i, now)
				}
				if len(pts) > max {
					t.Fatalf("step %d: %d points, bound %d", i, len(pts), max)
				}
				for j := 1; j < len(pts); j++ {
					if !pts[j].At.After(pts[j-1].At) {
						t.Fatalf("step %d: points out of order at %d", i, j)
					}
				}
				now = now.Add(time.Hour + time.Duration(i%7)*time.Minute)
			}
			if len(pts) != max {
				t.Fatalf("%d points after two years, want the bound %d", len(pts), max)
			}
			if !pts[0].At.Equal(t0) {
				t.Errorf("first point %s, want the first ever recorded %s", pts[0].At, t0)
			}
			span := pts[len(pts)-1].At.Sub(pts[0].At)
			if span < 729*24*time.Hour {
				t.Errorf("history spans %s, want about two years", span)
			}
			if max > 2 {
				// Evenly spread: no gap more than three times the mean.
				mean := span / time.Duration(len(pts)-1)
				for j := 1; j < len(pts); j++ {
					if g := pts[j].At.Sub(pts[j-1].At); g > 3*mean {
						t.Errorf("gap %s between points %d and %d, mean %s", g, j-1, j, mean)
					}
				}
			}
		})
	}
}

// TestPointSize checks the size the bound is reasoned with: 60 points of
// the status' JSON stay under 8 KB.
func TestPointSize(t *testing.T) {
	type apiPoint struct {
		Time           time.Time `json:"time"`
		HealthScore    int32     `json:"healthScore"`
		Touchpoints    int32     `json:"touchpoints"`
		Gaps           int32     `json:"gaps"`
		OpenPainPoints int32     `json:"openPainPoints"`
		EmotionGap     int32     `json:"emotionGapHundredths"`
	}
	var list []apiPoint
	for i := 0; i < DefaultMaxPoints; i++ {
		list = append(list, apiPoint{t0.Add(time.Duration(i) * time.Hour), 100, 480, 480, 3840, 400})
	}
	raw, _ := json.Marshal(list)
	if len(raw) > 8<<10 {
		t.Errorf("%d points are %d bytes of JSON, want at most 8 KB", DefaultMaxPoints, len(raw))
	}
}

func TestThin(t *testing.T) {
	at := func(hours ...int) []Point {
		var out []Point
		for _, h := range hours {
			out = append(out, pt(t0.Add(time.Duration(h)*time.Hour), h))
		}
		return out
	}
	hours := func(ps []Point) []int {
		var out []int
		for _, p := range ps {
			out = append(out, int(p.At.Sub(t0)/time.Hour))
		}
		return out
	}
	tests := []struct {
		name string
		in   []int
		max  int
		want []int
	}{
		{"under the bound: unchanged", []int{0, 1, 2}, 5, []int{0, 1, 2}},
		{"the crowded point goes", []int{0, 10, 11, 20}, 3, []int{0, 10, 20}},
		{"first and last are kept", []int{0, 1, 2, 100}, 2, []int{0, 100}},
		{"tie: the earliest goes", []int{0, 1, 2, 3}, 3, []int{0, 2, 3}},
		{"a bound below two keeps two", []int{0, 5, 9}, 0, []int{0, 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := at(tc.in...)
			got := hours(Thin(in, tc.max))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Thin(%v, %d) = %v, want %v", tc.in, tc.max, got, tc.want)
			}
			if fmt.Sprint(hours(in)) != fmt.Sprint(tc.in) {
				t.Errorf("Thin changed its argument to %v", hours(in))
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	ip := func(v int) *int { return &v }
	m := journey.Map{Stages: []journey.Stage{
		{Name: "plan", Touchpoints: []journey.Touchpoint{
			{Name: "web", Experiences: []journey.Experience{{Persona: "a", Score: -2, Target: ip(1)}, {Persona: "b", Score: 1}}, PainPoints: []journey.PainPoint{{ID: "p1"}, {ID: "p2"}}},
			{Name: "phone", Experiences: []journey.Experience{{Persona: "a", Score: 2, Target: ip(1)}}},
		}},
		{Name: "visit", Touchpoints: []journey.Touchpoint{
			{Name: "gate", Experiences: []journey.Experience{{Persona: "a", Score: 0, Target: ip(9)}}, PainPoints: []journey.PainPoint{{ID: "p3"}}},
		}},
	}}
	got := Measure(t0, m, 61, 4, map[string]bool{"p2": true})
	// Gaps to the targets: 3, 0 (above target), 2 (target clamped to +2): mean 5/3.
	want := Point{At: t0, Health: 61, Touchpoints: 3, Gaps: 4, OpenPainPoints: 2, EmotionGap: 167}
	if got != want {
		t.Errorf("Measure = %+v, want %+v", got, want)
	}
	if empty := Measure(t0, journey.Map{}, 0, 0, nil); empty != (Point{At: t0}) {
		t.Errorf("Measure of an empty map = %+v", empty)
	}
}

// TestCRDBound: the API server admits as many points as Record keeps, no
// fewer (a full history would be refused) and no more (the bound is the
// reason for the field's size).
func TestCRDBound(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "cx.cxloop.dev_customerjourneys.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crd := string(raw)
	i := strings.Index(crd, "\n              history:\n")
	if i < 0 {
		t.Fatal("the CRD has no status.history")
	}
	m := regexp.MustCompile(`(?m)^                maxItems: (\d+)$`).FindStringSubmatch(crd[i:])
	if m == nil || m[1] != strconv.Itoa(DefaultMaxPoints) {
		t.Errorf("status.history maxItems %v, want %d", m, DefaultMaxPoints)
	}
}
