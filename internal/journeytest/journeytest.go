// Package journeytest builds CustomerJourney maps of any size for tests and
// the benchmark: N touchpoints laid out over stages, personas, a tracker,
// each touchpoint shaped by a function of where it sits on the map.
package journeytest

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// MaxPerStage is the most touchpoints a stage may hold (the CRD's maxItems).
const MaxPerStage = 40

// Place is where a touchpoint sits on the map.
type Place struct {
	// Stage is its stage's position on the map, StageName its name.
	Stage     int
	StageName string
	// InStage is its position in its stage.
	InStage int
	// Index is its position over the whole map, stage after stage.
	Index int
}

// Option shapes the journey New builds.
type Option func(*builder)

type builder struct {
	cj          *cxv1.CustomerJourney
	touchpoints int
	shape       func(*cxv1.Touchpoint, Place)
	stages      []string // spread evenly over these
	perStage    int      // or stages of this many
}

// New builds the journey namespace/name. Without options it is an empty
// map; Touchpoints fills it.
func New(namespace, name string, opts ...Option) *cxv1.CustomerJourney {
	b := &builder{cj: &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}}
	for _, o := range opts {
		o(b)
	}
	n := b.touchpoints
	var sizes []int
	switch {
	case n == 0:
	case b.perStage > 0:
		for left := n; left > 0; left -= b.perStage {
			sizes = append(sizes, min(left, b.perStage))
		}
		b.stages = Names("stage-%d", len(sizes))
	default:
		if len(b.stages) == 0 {
			b.stages = Names("stage-%d", (n+MaxPerStage-1)/MaxPerStage)
		}
		for s := range b.stages {
			size := n / len(b.stages)
			if s < n%len(b.stages) {
				size++
			}
			sizes = append(sizes, size)
		}
	}
	i := 0
	for s, size := range sizes {
		st := cxv1.Stage{Name: b.stages[s]}
		for k := 0; k < size; k++ {
			tp := cxv1.Touchpoint{Name: fmt.Sprintf("touchpoint-%d", i), Channel: "web"}
			if b.shape != nil {
				b.shape(&tp, Place{Stage: s, StageName: st.Name, InStage: k, Index: i})
			}
			st.Touchpoints = append(st.Touchpoints, tp)
			i++
		}
		b.cj.Spec.Stages = append(b.cj.Spec.Stages, st)
	}
	return b.cj
}

// Names is n names made by format from 0 to n-1 ("stage-%d").
func Names(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

// Touchpoints puts n touchpoints on the map, each named touchpoint-<index>
// on the web channel, then given to shape (nil: left so). Without Stages
// or StagesOf they are spread evenly over as few stages as can hold them.
func Touchpoints(n int, shape func(tp *cxv1.Touchpoint, at Place)) Option {
	return func(b *builder) { b.touchpoints, b.shape = n, shape }
}

// Stages spreads the touchpoints evenly over stages of these names, the
// first stages taking one more when they do not divide evenly.
func Stages(names ...string) Option {
	return func(b *builder) { b.stages, b.perStage = names, 0 }
}

// StagesOf fills stages named stage-0, stage-1... with size touchpoints
// each, the last with what is left.
func StagesOf(size int) Option {
	return func(b *builder) { b.stages, b.perStage = nil, size }
}

// Owner is who answers for the journey.
func Owner(owner string) Option {
	return func(b *builder) { b.cj.Spec.Owner = owner }
}

// Personas adds personas of these names, each with goal ("": none).
func Personas(goal string, names ...string) Option {
	return func(b *builder) {
		for _, n := range names {
			p := cxv1.Persona{Name: n}
			if goal != "" {
				p.Goals = []string{goal}
			}
			b.cj.Spec.Personas = append(b.cj.Spec.Personas, p)
		}
	}
}

// GitHub tracks the journey's work in owner/repo on the GitHub at apiURL,
// with the token in the Secret secret.
func GitHub(owner, repo, apiURL, secret string) Option {
	return func(b *builder) {
		b.cj.Spec.Tracker = &cxv1.TrackerSpec{GitHub: &cxv1.GitHubTracker{
			Owner: owner, Repo: repo, APIURL: apiURL, SecretRef: cxv1.SecretReference{Name: secret},
		}}
	}
}

// Label sets a label on the journey.
func Label(key, value string) Option {
	return func(b *builder) {
		if b.cj.Labels == nil {
			b.cj.Labels = map[string]string{}
		}
		b.cj.Labels[key] = value
	}
}
