package history

import (
	"testing"
	"time"
)

func TestPolicyDefaults(t *testing.T) {
	for _, tc := range []struct {
		in   Policy
		want Policy
	}{
		{Policy{}, Policy{MaxPoints: DefaultMaxPoints, MinInterval: DefaultMinInterval}},
		{Policy{MaxPoints: -1, MinInterval: -time.Minute}, Policy{MaxPoints: DefaultMaxPoints, MinInterval: DefaultMinInterval}},
		{Policy{MaxPoints: 1, MinInterval: time.Minute}, Policy{MaxPoints: 2, MinInterval: time.Minute}},
		{Policy{MaxPoints: 7, MinInterval: time.Second}, Policy{MaxPoints: 7, MinInterval: time.Second}},
	} {
		if got := tc.in.withDefaults(); got != tc.want {
			t.Errorf("%+v.withDefaults() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestRecordInterval: the interval is inclusive, and a custom one is used.
func TestRecordInterval(t *testing.T) {
	pol := Policy{MinInterval: 10 * time.Minute}
	for _, tc := range []struct {
		name     string
		after    time.Duration
		recorded bool
		wait     time.Duration
	}{
		{"exactly the interval", 10 * time.Minute, true, 0},
		{"a nanosecond short", 10*time.Minute - time.Nanosecond, false, time.Nanosecond},
		{"at the same instant", 0, false, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, recorded, wait := Record([]Point{pt(t0, 50)}, pt(t0.Add(tc.after), 51), pol)
			if recorded != tc.recorded || wait != tc.wait {
				t.Errorf("recorded %v, wait %s; want %v, %s", recorded, wait, tc.recorded, tc.wait)
			}
			if want := map[bool]int{true: 2, false: 1}[tc.recorded]; len(out) != want {
				t.Errorf("%d points, want %d", len(out), want)
			}
		})
	}
}

// TestRecordDoesNotShareTheCallersArray: the history returned never
// writes into the spare capacity of the caller's slice.
func TestRecordDoesNotShareTheCallersArray(t *testing.T) {
	backing := make([]Point, 1, 4)
	backing[0] = pt(t0, 50)
	a, _, _ := Record(backing, pt(t0.Add(2*time.Hour), 51), Policy{})
	b, _, _ := Record(backing, pt(t0.Add(3*time.Hour), 52), Policy{})
	if a[1].Health != 51 || b[1].Health != 52 {
		t.Errorf("two histories from one slice share their points: %d and %d", a[1].Health, b[1].Health)
	}
	if full := backing[:2]; full[1] != (Point{}) {
		t.Errorf("Record wrote into the caller's spare capacity: %+v", full[1])
	}
}

func TestSameFigures(t *testing.T) {
	a := pt(t0, 50)
	for _, tc := range []struct {
		name string
		edit func(*Point)
		same bool
	}{
		{"another time only", func(p *Point) { p.At = t0.Add(time.Hour) }, true},
		{"another time zone", func(p *Point) { p.At = t0.In(time.FixedZone("x", 3600)) }, true},
		{"health", func(p *Point) { p.Health++ }, false},
		{"touchpoints", func(p *Point) { p.Touchpoints++ }, false},
		{"open pain points", func(p *Point) { p.OpenPainPoints-- }, false},
		{"emotion gap", func(p *Point) { p.EmotionGap = 0 }, false},
	} {
		b := a
		tc.edit(&b)
		if got := a.SameFigures(b); got != tc.same {
			t.Errorf("%s: SameFigures %v, want %v", tc.name, got, tc.same)
		}
	}
}

func TestThinEdges(t *testing.T) {
	if got := Thin(nil, 5); len(got) != 0 {
		t.Errorf("Thin(nil) = %v", got)
	}
	two := []Point{pt(t0, 1), pt(t0.Add(time.Hour), 2)}
	if got := Thin(two, 1); len(got) != 2 || got[0] != two[0] || got[1] != two[1] {
		t.Errorf("Thin of two points to one = %v, want both kept", got)
	}
}
