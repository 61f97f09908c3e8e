package journeytest

import (
	"fmt"
	"slices"
	"testing"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestEveryDefaultLayoutFitsTheCRD: for any number of touchpoints, the
// default layout uses as few stages as can hold them, none over
// MaxPerStage, sizes at most one apart, and every touchpoint once, named
// and indexed in map order.
func TestEveryDefaultLayoutFitsTheCRD(t *testing.T) {
	for n := 1; n <= 2*MaxPerStage*5+1; n++ {
		var places []Place
		cj := New("ns", "j", Touchpoints(n, func(_ *cxv1.Touchpoint, at Place) { places = append(places, at) }))
		names, sizes := layout(cj)
		if want := (n + MaxPerStage - 1) / MaxPerStage; len(sizes) != want || !slices.Equal(names, Names("stage-%d", want)) {
			t.Fatalf("%d touchpoints: stages %v, want %d", n, names, want)
		}
		total := 0
		for _, s := range sizes {
			total += s
			if s > MaxPerStage || s < 1 || slices.Max(sizes)-s > 1 {
				t.Fatalf("%d touchpoints: stage sizes %v", n, sizes)
			}
		}
		if total != n || len(places) != n {
			t.Fatalf("%d touchpoints: %d laid out, %d shaped", n, total, len(places))
		}
		i := 0
		for s, st := range cj.Spec.Stages {
			for k, tp := range st.Touchpoints {
				if want := fmt.Sprintf("touchpoint-%d", i); tp.Name != want || places[i] != (Place{Stage: s, StageName: st.Name, InStage: k, Index: i}) {
					t.Fatalf("%d touchpoints: touchpoint %d is %q at %+v", n, i, tp.Name, places[i])
				}
				i++
			}
		}
	}
}

func TestStagesOfLayouts(t *testing.T) {
	for _, tc := range []struct {
		n, size int
		want    []int
	}{
		{20, 10, []int{10, 10}},
		{21, 10, []int{10, 10, 1}},
		{3, 10, []int{3}},
		{5, 1, []int{1, 1, 1, 1, 1}},
		{0, 10, nil},
	} {
		t.Run(fmt.Sprintf("%d by %d", tc.n, tc.size), func(t *testing.T) {
			names, sizes := layout(New("ns", "j", StagesOf(tc.size), Touchpoints(tc.n, nil)))
			if !slices.Equal(sizes, tc.want) || !slices.Equal(names, Names("stage-%d", len(tc.want))) {
				t.Errorf("stages %v of %v, want sizes %v", names, sizes, tc.want)
			}
		})
	}
}

// TestNoTouchpointsNoStages: named stages without touchpoints make no
// stage, and shape is never called.
func TestNoTouchpointsNoStages(t *testing.T) {
	called := false
	cj := New("ns", "j", Stages("a", "b"), Touchpoints(0, func(*cxv1.Touchpoint, Place) { called = true }))
	if len(cj.Spec.Stages) != 0 || called {
		t.Errorf("stages %+v, shape called %v", cj.Spec.Stages, called)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		format string
		n      int
		want   []string
	}{
		{"stage-%d", 0, []string{}},
		{"stage-%d", 3, []string{"stage-0", "stage-1", "stage-2"}},
		{"persona-%02d", 2, []string{"persona-00", "persona-01"}},
	} {
		if got := Names(tc.format, tc.n); !slices.Equal(got, tc.want) || got == nil {
			t.Errorf("Names(%q, %d) = %#v, want %#v", tc.format, tc.n, got, tc.want)
		}
	}
}

// TestLaterOptionsWin: options apply in order: a label set twice keeps
// the last value, a second tracker replaces the first, personas add up.
func TestLaterOptionsWin(t *testing.T) {
	cj := New("ns", "j", Label("shard", "a"), Label("shard", "b"),
		GitHub("acme", "one", "https://api.github.com", "s1"), GitHub("acme", "two", "http://127.0.0.1:1", "s2"),
		Owner("first"), Owner("second"), Personas("", "a"), Personas("", "b"))
	if cj.Labels["shard"] != "b" || len(cj.Labels) != 1 {
		t.Errorf("labels %v", cj.Labels)
	}
	if gh := cj.Spec.Tracker.GitHub; gh.Repo != "two" || gh.SecretRef.Name != "s2" {
		t.Errorf("tracker %+v", gh)
	}
	if cj.Spec.Owner != "second" || len(cj.Spec.Personas) != 2 {
		t.Errorf("owner %q, personas %+v", cj.Spec.Owner, cj.Spec.Personas)
	}
	if other := New("ns", "k"); other.Labels != nil || other.Spec.Tracker != nil || len(other.Spec.Personas) != 0 {
		t.Errorf("a journey without options shares state: %+v", other)
	}
}
