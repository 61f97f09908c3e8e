package main

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/controllers"
	"github.com/cxloop/cxloop/internal/journeytest"
	"github.com/cxloop/cxloop/internal/tracker"
)

// The benchmark's journeys: what a platform team of many product teams
// applies. Every journey has 140 touchpoints over 12 stages, 4 personas who
// each score every touchpoint, a pain point on every third touchpoint, and
// its own repository; the first gapsPerJourney touchpoints have no owner,
// so that Discovery has that many issues to open.
const (
	touchpointsPerJourney = 140
	journeysPerNamespace  = 10
	ghOwner               = "bench"
	secretName            = "github-token"
)

var (
	personaNames = []string{"commuter", "family", "student", "senior"}
	stageNames   = []string{"discover", "research", "compare", "plan", "book", "pay", "prepare", "arrive", "use", "support", "review", "return"}
	channels     = []cxv1.Channel{"web", "mobile-app", "email", "phone", "chat", "social", "store", "print", "in-person", "partner", "signage", "self-service"}
	phaseTypes   = []cxv1.PhaseType{cxv1.PhaseDiscovery, cxv1.PhaseImprove, cxv1.PhasePerfection, cxv1.PhasePersonalization}
)

// benchJourney identifies one journey of the load and where it lives.
type benchJourney struct {
	Namespace, Name, Repo string
	// Shard is the journey's sharding.cxloop.dev/key label ("": the main shard's).
	Shard string
}

func (j benchJourney) phaseName(t cxv1.PhaseType) string {
	return fmt.Sprintf("%s-%s", j.Name, map[cxv1.PhaseType]string{
		cxv1.PhaseDiscovery: "discovery", cxv1.PhaseImprove: "improve", cxv1.PhasePerfection: "perfection", cxv1.PhasePersonalization: "personalization",
	}[t])
}

// layout places n journeys, journeysPerNamespace to a namespace (a team),
// each in a repository of its own, or all in sharedRepo when it is set.
func layout(prefix string, n int, sharedRepo string) []benchJourney {
	out := make([]benchJourney, n)
	for i := range out {
		out[i] = benchJourney{
			Namespace: fmt.Sprintf("%steam-%03d", prefix, i/journeysPerNamespace),
			Name:      fmt.Sprintf("journey-%04d", i),
			Repo:      fmt.Sprintf("journey-%04d", i),
		}
		if sharedRepo != "" {
			out[i].Repo = sharedRepo
		}
	}
	return out
}

// historyBody is a closed issue of an earlier year in a repository: about
// 2 KB of findings and the key of a piece of work of one of the journeys
// that no phase plans today.
func historyBody(js []benchJourney) func(int) string {
	findings := strings.Repeat("Findings and decisions of an earlier review. ", 44)
	return func(i int) string {
		j := js[i%len(js)]
		return findings + "\n\n" + tracker.KeyMarker(fmt.Sprintf("%s/%s/retired/%d", j.Namespace, j.Name, i))
	}
}

func namespacesOf(js []benchJourney) []string {
	return distinct(js, func(j benchJourney) string { return j.Namespace })
}

func tokenSecret(ns, token string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName,
		Labels: map[string]string{tracker.CredentialsLabel: tracker.CredentialsLabelValue}}, StringData: map[string]string{"token": token}}
}

// customerJourney builds the journey's map.
func customerJourney(j benchJourney, apiURL string, gaps int) *cxv1.CustomerJourney {
	opts := []journeytest.Option{
		journeytest.Owner("Customer Experience team"),
		journeytest.GitHub(ghOwner, j.Repo, apiURL, secretName),
		journeytest.Personas("Get it done without calling anyone", personaNames...),
		journeytest.Stages(stageNames...),
		journeytest.Touchpoints(touchpointsPerJourney, func(tp *cxv1.Touchpoint, at journeytest.Place) {
			n, si, ti := at.Index, at.Stage, at.InStage
			*tp = cxv1.Touchpoint{
				Name:          fmt.Sprintf("%s-%02d", at.StageName, ti),
				Channel:       channels[(si+ti)%len(channels)],
				Owner:         fmt.Sprintf("Department %d", (si+ti)%7),
				MomentOfTruth: ptr.To(ti == 0),
				TopTask:       ptr.To(si == 4 && ti == 0),
			}
			if n < gaps {
				tp.Owner = "" // a gap: Discovery opens an issue for it
			}
			for pi, p := range personaNames {
				score := int32((n+pi)%5) - 2
				tp.Experiences = append(tp.Experiences, cxv1.Experience{Persona: p, Score: ptr.To(score), Target: ptr.To(int32(min(2, int(score)+1))), Note: "Seen in the last workshop"})
			}
			if n%3 == 0 {
				tp.PainPoints = append(tp.PainPoints, cxv1.PainPoint{
					ID: fmt.Sprintf("pp-%03d", n), Summary: "Customers give up here more often than elsewhere",
					Impact: int32(1 + n%5), Effort: int32(1 + (n/3)%5), Personas: []string{personaNames[n%4]},
				})
			}
		}),
	}
	if j.Shard != "" {
		opts = append(opts, journeytest.Label(controllers.ShardLabel, j.Shard))
	}
	return journeytest.New(j.Namespace, j.Name, opts...)
}

// improvementPhases are the journey's four phases, in order, as in
// config/samples.
func improvementPhases(j benchJourney, sync metav1.Duration) []*cxv1.ImprovementPhase {
	var out []*cxv1.ImprovementPhase
	after := ""
	for _, t := range phaseTypes {
		ph := &cxv1.ImprovementPhase{
			ObjectMeta: metav1.ObjectMeta{Namespace: j.Namespace, Name: j.phaseName(t)},
			Spec: cxv1.ImprovementPhaseSpec{
				JourneyRef:   cxv1.JourneyReference{Name: j.Name},
				Type:         t,
				After:        after,
				Owner:        "Customer Experience team",
				SyncInterval: &sync,
				Limits:       &cxv1.PhaseLimits{MaxOpenIssues: 10},
			},
		}
		out = append(out, ph)
		after = ph.Name
	}
	return out
}
