package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/devenv"
)

// The story's parts that need neither an API server nor a GitHub: the
// whole story runs in TestDemo.

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := devenv.FindRoot("test")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// samples reads the nature-park sample the demo tells its story on.
func samples(t *testing.T) (*cxv1.CustomerJourney, []*cxv1.ImprovementPhase) {
	t.Helper()
	cj, phases, err := readSamples(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return cj, phases
}

func touchpoint(cj *cxv1.CustomerJourney, name string) *cxv1.Touchpoint {
	for si := range cj.Spec.Stages {
		for ti := range cj.Spec.Stages[si].Touchpoints {
			if tp := &cj.Spec.Stages[si].Touchpoints[ti]; tp.Name == name {
				return tp
			}
		}
	}
	return nil
}

func TestReadSamplesReadsTheNatureParkJourneyAndItsFourPhases(t *testing.T) {
	cj, phases := samples(t)
	if cj.Name != journeyName || cj.Spec.Tracker.GitHub == nil {
		t.Errorf("journey %q, tracker %+v; want %s tracked on GitHub", cj.Name, cj.Spec.Tracker, journeyName)
	}
	var types []cxv1.PhaseType
	for _, ph := range phases {
		types = append(types, ph.Spec.Type)
	}
	want := []cxv1.PhaseType{cxv1.PhaseDiscovery, cxv1.PhaseImprove, cxv1.PhasePerfection, cxv1.PhasePersonalization}
	if len(types) != len(want) {
		t.Fatalf("phases %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Errorf("phase %d is %s, want %s", i, types[i], want[i])
		}
	}
	if touchpoint(cj, "nearby-restaurant") == nil || touchpoint(cj, measuredTouchpoint) == nil {
		t.Error("the sample lacks the touchpoints the story edits and measures")
	}
}

// TestReadSamplesRefusesBrokenSamples: a sample the demo cannot tell its
// story on is refused, saying which.
func TestReadSamplesRefusesBrokenSamples(t *testing.T) {
	sampleDir := filepath.Join(repoRoot(t), "config", "samples")
	journey, err := os.ReadFile(filepath.Join(sampleDir, "cx_v1alpha1_customerjourney.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	phases, err := os.ReadFile(filepath.Join(sampleDir, "cx_v1alpha1_improvementphases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(phases), "\n---\n")
	for _, tc := range []struct {
		name            string
		journey, phases string
		want            string
	}{
		{"no journey", "", string(phases), "cx_v1alpha1_customerjourney.yaml"},
		{"a field the journey does not have", string(journey) + "\nextra: 1\n", string(phases), "reading the sample journey"},
		{"no tracker", "apiVersion: cx.cxloop.dev/v1alpha1\nkind: CustomerJourney\nmetadata:\n  name: j\n", string(phases), "no GitHub tracker"},
		{"no phases", string(journey), "", "cx_v1alpha1_improvementphases.yaml"},
		{"three phases", string(journey), strings.Join(docs[:3], "\n---\n"), "expected the four sample phases, found 3"},
		{"a phase with a misspelt field", string(journey), strings.Join(docs, "\n---\n") + "\n---\nspec:\n  tpye: Improve\n", "reading the sample phases"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "config", "samples")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, content := range map[string]string{"cx_v1alpha1_customerjourney.yaml": tc.journey, "cx_v1alpha1_improvementphases.yaml": tc.phases} {
				if content != "" {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, _, err := readSamples(root); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestFixMapFillsBothGaps: the product owner's edit gives the restaurant
// its owner and sizes the parking-signs pain point, and says so.
func TestFixMapFillsBothGaps(t *testing.T) {
	cj, _ := samples(t)
	if touchpoint(cj, "nearby-restaurant").Owner != "" {
		t.Fatal("the sample's restaurant already has an owner: the story has no gap to fill")
	}
	restaurant, parking := fixMap(cj)
	if got := touchpoint(cj, "nearby-restaurant").Owner; got != "Partnerships" {
		t.Errorf("the restaurant's owner is %q, want Partnerships", got)
	}
	var sized bool
	for _, pp := range touchpoint(cj, "road-signage").PainPoints {
		if pp.ID == "parking-signs" {
			sized = pp.Effort == 3
		}
	}
	if !sized {
		t.Error("the parking-signs pain point has no effort of 3")
	}
	if !strings.Contains(restaurant, "owned by Partnerships") {
		t.Errorf("restaurant: %q", restaurant)
	}
	if want := `the parking-signs pain point ("No sign says which car park is full") is sized: impact 3, effort 3.`; parking != want {
		t.Errorf("parking: %q, want %q", parking, want)
	}
	// A map without those touchpoints changes nothing and says nothing.
	empty := &cxv1.CustomerJourney{}
	if r, p := fixMap(empty); r != "" || p != "" {
		t.Errorf("an empty map: %q, %q", r, p)
	}
}

// TestMeasureDeclaresCSATOnTheWebsiteOnly: only website-home in the
// inspiration stage gets the CSAT measure.
func TestMeasureDeclaresCSATOnTheWebsiteOnly(t *testing.T) {
	cj, _ := samples(t)
	measure(cj)
	var measured []string
	for _, st := range cj.Spec.Stages {
		for _, tp := range st.Touchpoints {
			if len(tp.Measures) > 0 {
				measured = append(measured, st.Name+"/"+tp.Name)
			}
		}
	}
	if len(measured) != 1 || measured[0] != measuredStage+"/"+measuredTouchpoint {
		t.Fatalf("measured touchpoints %v, want only %s/%s", measured, measuredStage, measuredTouchpoint)
	}
	m := touchpoint(cj, measuredTouchpoint).Measures[0]
	if m.Name != "csat" || m.Target != "4" || m.Direction != cxv1.HigherIsBetter || !strings.Contains(m.Query, `touchpoint="website-home"`) {
		t.Errorf("measure %+v", m)
	}
}

// TestCSATHistory: 3.2 until the rollout, 4.4 from the first close, a
// ramp between; from two weeks before the story, every 10 minutes.
func TestCSATHistory(t *testing.T) {
	start := time.Now().Add(-storySpan).Truncate(time.Minute)
	series := csatHistory(start)
	if len(series) != 1 || series[0].Labels["touchpoint"] != measuredTouchpoint {
		t.Fatalf("series %+v", series)
	}
	points := series[0].Samples
	if first := points[0].At; !first.Equal(start.Add(-14 * day)) {
		t.Errorf("first sample at %v, want two weeks before the story", first)
	}
	if last := points[len(points)-1].At; time.Since(last) > 10*time.Minute || time.Since(last) < 0 {
		t.Errorf("last sample at %v, want within 10 minutes of now", last)
	}
	for i := 1; i < len(points); i++ {
		if d := points[i].At.Sub(points[i-1].At); d != 10*time.Minute {
			t.Fatalf("samples %d and %d are %v apart, want 10m", i-1, i, d)
		}
	}
	value := func(at time.Duration) float64 {
		for _, s := range points {
			if s.At.Equal(start.Add(at)) {
				return s.Value
			}
		}
		t.Fatalf("no sample at %v", at)
		return 0
	}
	for _, tc := range []struct {
		at   time.Duration
		want float64
	}{
		{-7 * day, csatBefore},
		{rolloutStarts - 10*time.Minute, csatBefore},
		{rolloutStarts, csatBefore},
		{(rolloutStarts + firstClose) / 2, (csatBefore + csatAfter) / 2},
		{firstClose, csatAfter},
		{firstClose + 7*day, csatAfter},
	} {
		if got := value(tc.at); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("CSAT %v after the story's start: %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestFirstLine(t *testing.T) {
	for in, want := range map[string]string{"": "", "one": "one", "one\ntwo": "one", "\nsecond": "", "é\n": "é"} {
		if got := firstLine(in); got != want {
			t.Errorf("firstLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogTailKeepsTheLastLines(t *testing.T) {
	l := &logTail{max: 3}
	if l.String() != "" {
		t.Fatalf("empty tail: %q", l.String())
	}
	for _, w := range []string{"one\n", "two\nthree\n", "four"} {
		if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	if got, want := l.String(), "two\nthree\nfour\n"; got != want {
		t.Errorf("tail %q, want %q", got, want)
	}
	_, _ = l.Write([]byte("a\nb\nc\nd\ne\n"))
	if got, want := l.String(), "c\nd\ne\n"; got != want {
		t.Errorf("after a write longer than the tail: %q, want %q", got, want)
	}
}

func TestGitHubHost(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8090/":         "127.0.0.1:8090",
		"https://ghe.example.com/api/v3": "ghe.example.com",
		"http://[::1]:9000":              "[::1]:9000",
		"://no-scheme":                   "",
	} {
		if got := githubHost(in); got != want {
			t.Errorf("githubHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAddrOrFree: a free address is kept (its port resolved); a taken
// one is swapped for a free port on 127.0.0.1, saying it moved.
func TestAddrOrFree(t *testing.T) {
	got, moved, err := addrOrFree("127.0.0.1:0")
	if err != nil || moved || strings.HasSuffix(got, ":0") || !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("free address: %q, moved %v, %v; want 127.0.0.1 with a port", got, moved, err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	got, moved, err = addrOrFree(taken.Addr().String())
	if err != nil || !moved || got == taken.Addr().String() {
		t.Fatalf("taken address %s: %q, moved %v, %v; want another, moved", taken.Addr(), got, moved, err)
	}
	l, err := net.Listen("tcp", got)
	if err != nil {
		t.Fatalf("the address given instead, %s, cannot be listened on: %v", got, err)
	}
	_ = l.Close()
}

func phaseOf(items ...cxv1.PhaseItem) *cxv1.ImprovementPhase {
	ph := &cxv1.ImprovementPhase{}
	ph.Status.Items = items
	return ph
}

func TestPhaseItemHelpers(t *testing.T) {
	ph := phaseOf(
		cxv1.PhaseItem{Key: "gap/a", State: cxv1.ItemOpen, Issue: 1},
		cxv1.PhaseItem{Key: "gap/b", State: cxv1.ItemOpen, Issue: 2},
		cxv1.PhaseItem{Key: "gap/c", State: cxv1.ItemClosed, Issue: 3},
		cxv1.PhaseItem{Key: "gap/d", State: cxv1.ItemPlanned},
	)
	for state, want := range map[cxv1.ItemState]int{cxv1.ItemOpen: 2, cxv1.ItemClosed: 1, cxv1.ItemPlanned: 1, "Unknown": 0} {
		if got := countState(ph, state); got != want {
			t.Errorf("countState(%s) = %d, want %d", state, got, want)
		}
	}
	if !allNumbered(ph, cxv1.ItemOpen) || !allNumbered(ph, cxv1.ItemClosed) {
		t.Error("open and closed items all have their issue numbers")
	}
	if allNumbered(ph, cxv1.ItemPlanned) {
		t.Error("a planned item without an issue counts as numbered")
	}
	ph.Status.Items = append(ph.Status.Items, cxv1.PhaseItem{Key: "gap/e", State: cxv1.ItemOpen})
	if allNumbered(ph, cxv1.ItemOpen) {
		t.Error("an open item whose issue is not known yet counts as numbered")
	}
	if it := itemByKey(ph, "gap/c"); it.Issue != 3 || it.State != cxv1.ItemClosed {
		t.Errorf("itemByKey(gap/c) = %+v", it)
	}
	if it := itemByKey(ph, "gap/z"); it.State != "missing" {
		t.Errorf("itemByKey of a missing key = %+v, want state missing", it)
	}
	open := openKeys(ph)
	if len(open) != 3 || !open["gap/a"] || !open["gap/b"] || !open["gap/e"] || open["gap/c"] {
		t.Errorf("openKeys = %v", open)
	}
	if orDash("") != "-" || orDash("x") != "x" {
		t.Errorf("orDash: %q, %q", orDash(""), orDash("x"))
	}
}

func newDemo(stepTimeout time.Duration) (*demo, *bytes.Buffer) {
	out := &bytes.Buffer{}
	return &demo{o: options{StepTimeout: stepTimeout}, out: out, sim: &devenv.ShiftedClock{}}, out
}

// TestAdvanceNeverPassesRealTime: the simulated clock moves forward by
// what the story says, and stops at today.
func TestAdvanceNeverPassesRealTime(t *testing.T) {
	dm, out := newDemo(time.Second)
	dm.advance(-storySpan)
	if dm.sim.Offset() != -storySpan {
		t.Fatalf("offset %v, want %v", dm.sim.Offset(), -storySpan)
	}
	dm.later(9 * day)
	if dm.sim.Offset() != -storySpan+9*day {
		t.Errorf("offset %v after 9 days", dm.sim.Offset())
	}
	if want := "   … 9 days later, on " + time.Now().Add(-storySpan+9*day).UTC().Format(time.DateOnly) + ":\n"; out.String() != want {
		t.Errorf("later said %q, want %q", out.String(), want)
	}
	dm.advance(storySpan)
	if dm.sim.Offset() != 0 {
		t.Errorf("offset %v after moving past today, want 0", dm.sim.Offset())
	}
}

func TestNarration(t *testing.T) {
	dm, out := newDemo(time.Second)
	dm.say("cxloop demo")
	dm.title("1. The map")
	dm.step("health %d/100", 62)
	if want := "cxloop demo\n\n1. The map\n   health 62/100\n"; out.String() != want {
		t.Errorf("narration %q, want %q", out.String(), want)
	}
}

// TestWaitFor: it returns once the condition holds, and otherwise fails
// after the step timeout naming what it waited for and what it last saw.
func TestWaitFor(t *testing.T) {
	dm, _ := newDemo(300 * time.Millisecond)
	calls := 0
	if err := dm.waitFor(context.Background(), "the third look", func() (bool, string, error) {
		calls++
		return calls == 3, "not yet", nil
	}); err != nil || calls != 3 {
		t.Errorf("waitFor = %v after %d looks, want nil after 3", err, calls)
	}
	for _, tc := range []struct {
		name string
		cond func() (bool, string, error)
		want string
	}{
		{"never", func() (bool, string, error) { return false, "", nil }, "(last seen: nothing observed yet)"},
		{"a state", func() (bool, string, error) { return false, "Discovery is Pending", nil }, "(last seen: Discovery is Pending)"},
		{"an error", func() (bool, string, error) { return true, "", errors.New("the API server is down") }, "(last seen: the API server is down)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := dm.waitFor(context.Background(), "Discovery completes", tc.cond)
			if err == nil || !strings.Contains(err.Error(), "waited in vain for: Discovery completes "+tc.want) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want one naming the step and %q", err, tc.want)
			}
			if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
				t.Errorf("gave up after %v, want the step timeout of 300ms", d)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := dm.waitFor(ctx, "anything", func() (bool, string, error) { return false, "", nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("with the story cancelled: %v, want context.Canceled", err)
	}
}
