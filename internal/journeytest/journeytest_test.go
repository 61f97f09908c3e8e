package journeytest

import (
	"slices"
	"testing"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

func layout(cj *cxv1.CustomerJourney) (names []string, sizes []int) {
	for _, st := range cj.Spec.Stages {
		names = append(names, st.Name)
		sizes = append(sizes, len(st.Touchpoints))
	}
	return names, sizes
}

func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []Option
		wantNames []string
		wantSizes []int
	}{
		{"empty map", nil, nil, nil},
		{"one stage holds up to 40", []Option{Touchpoints(40, nil)}, []string{"stage-0"}, []int{40}},
		{"41 need two stages, spread evenly", []Option{Touchpoints(41, nil)}, []string{"stage-0", "stage-1"}, []int{21, 20}},
		{"140 over four stages", []Option{Touchpoints(140, nil)}, Names("stage-%d", 4), []int{35, 35, 35, 35}},
		{"named stages take the remainder first", []Option{Touchpoints(8, nil), Stages("discover", "book", "pay")}, []string{"discover", "book", "pay"}, []int{3, 3, 2}},
		{"stages of a size, the last with what is left", []Option{Touchpoints(25, nil), StagesOf(10)}, Names("stage-%d", 3), []int{10, 10, 5}},
		{"the last option on stages wins", []Option{StagesOf(10), Stages("a", "b"), Touchpoints(4, nil)}, []string{"a", "b"}, []int{2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, sizes := layout(New("ns", "j", tc.opts...))
			if !slices.Equal(names, tc.wantNames) || !slices.Equal(sizes, tc.wantSizes) {
				t.Fatalf("stages %v of %v touchpoints; want %v of %v", names, sizes, tc.wantNames, tc.wantSizes)
			}
		})
	}
}

func TestShapeSeesWhereEachTouchpointSits(t *testing.T) {
	var places []Place
	cj := New("shop", "checkout", Stages("browse", "pay"), Touchpoints(5, func(tp *cxv1.Touchpoint, at Place) {
		places = append(places, at)
		if at.InStage == 0 {
			tp.Owner = "first of " + at.StageName
		}
	}))
	want := []Place{{0, "browse", 0, 0}, {0, "browse", 1, 1}, {0, "browse", 2, 2}, {1, "pay", 0, 3}, {1, "pay", 1, 4}}
	if !slices.Equal(places, want) {
		t.Fatalf("places %v; want %v", places, want)
	}
	pay := cj.Spec.Stages[1].Touchpoints
	if pay[0].Name != "touchpoint-3" || pay[0].Channel != "web" || pay[0].Owner != "first of pay" || pay[1].Owner != "" {
		t.Fatalf("pay's touchpoints: %+v", pay)
	}
	if cj.Namespace != "shop" || cj.Name != "checkout" {
		t.Fatalf("journey %s/%s", cj.Namespace, cj.Name)
	}
}

func TestPersonasTrackerLabels(t *testing.T) {
	cj := New("ns", "j", Owner("CX team"), Personas("Get it done", "commuter", "family"), Personas("", "guest"),
		GitHub("acme", "journeys", "http://127.0.0.1:1", "github-token"), Label("a", "1"), Label("b", "2"))
	if cj.Spec.Owner != "CX team" || len(cj.Spec.Personas) != 3 || cj.Spec.Personas[1].Name != "family" ||
		!slices.Equal(cj.Spec.Personas[0].Goals, []string{"Get it done"}) || cj.Spec.Personas[2].Goals != nil {
		t.Fatalf("owner %q, personas %+v", cj.Spec.Owner, cj.Spec.Personas)
	}
	gh := cj.Spec.Tracker.GitHub
	if gh.Owner != "acme" || gh.Repo != "journeys" || gh.APIURL != "http://127.0.0.1:1" || gh.SecretRef.Name != "github-token" {
		t.Fatalf("tracker %+v", gh)
	}
	if len(cj.Labels) != 2 || cj.Labels["a"] != "1" || cj.Labels["b"] != "2" {
		t.Fatalf("labels %v", cj.Labels)
	}
}
