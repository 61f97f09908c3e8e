package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/yaml"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journeytest"
)

// sampleJourney reads the nature-park sample from config/samples.
func sampleJourney(t *testing.T, ns string) *cxv1.CustomerJourney {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "config", "samples", "cx_v1alpha1_customerjourney.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cj cxv1.CustomerJourney
	if err := yaml.UnmarshalStrict(raw, &cj); err != nil {
		t.Fatal(err)
	}
	cj.Namespace = ns
	return &cj
}

// samplePhases reads the four sample phases.
func samplePhases(t *testing.T, ns string) []*cxv1.ImprovementPhase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "config", "samples", "cx_v1alpha1_improvementphases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*cxv1.ImprovementPhase
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var p cxv1.ImprovementPhase
		if err := yaml.UnmarshalStrict([]byte(doc), &p); err != nil {
			t.Fatal(err)
		}
		p.Namespace = ns
		out = append(out, &p)
	}
	return out
}

func startJourneyController(t *testing.T) *testManager {
	return startManager(t, func(mgr ctrl.Manager) error {
		return (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clock.RealClock{}}).SetupWithManager(mgr, controller.Options{})
	})
}

func readyCondition(g Gomega, key client.ObjectKey, obj client.Object) *metav1.Condition {
	g.Expect(k8sClient.Get(context.Background(), key, obj)).To(Succeed())
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *cxv1.CustomerJourney:
		conds = o.Status.Conditions
	case *cxv1.ImprovementPhase:
		conds = o.Status.Conditions
	}
	return meta.FindStatusCondition(conds, cxv1.ConditionReady)
}

func TestSampleJourneyIsScored(t *testing.T) {
	g := eventually(t)
	startJourneyController(t)
	ctx := context.Background()
	cj := sampleJourney(t, namespace(t))
	g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())

	var got cxv1.CustomerJourney
	g.Eventually(func(g Gomega) {
		c := readyCondition(g, client.ObjectKeyFromObject(cj), &got)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.ObservedGeneration).To(Equal(got.Generation))
	}).Should(Succeed())
	g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	g.Expect(*got.Status.Summary).To(Equal(cxv1.JourneySummary{
		Personas: 2, Stages: 5, Touchpoints: 15, Channels: 11, PainPoints: 10, QuickWins: 4, MomentsOfTruth: 5, TopTasks: 3,
	}))
	g.Expect(got.Status.HealthScore).NotTo(BeNil())
	g.Expect(*got.Status.HealthScore).To(BeNumerically(">", 0))
	g.Expect(*got.Status.HealthScore).To(BeNumerically("<", 100))
	var gapKeys []string
	for _, gap := range got.Status.Gaps {
		gapKeys = append(gapKeys, gap.Key)
	}
	g.Expect(gapKeys).To(ConsistOf("gap/touchpoint-without-owner/visit/nearby-restaurant", "gap/pain-point-not-sized/parking-signs"))

	// Status is written only when it changes: with nothing new, the object rests.
	rv := got.ResourceVersion
	g.Consistently(func(g Gomega) {
		var now cxv1.CustomerJourney
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cj), &now)).To(Succeed())
		g.Expect(now.ResourceVersion).To(Equal(rv))
	}).Should(Succeed())

	// A change of the map is scored again, at the new generation.
	got.Spec.Stages[3].Touchpoints[2].Owner = "Partnerships"
	g.Expect(k8sClient.Update(ctx, &got)).To(Succeed())
	g.Eventually(func(g Gomega) {
		var now cxv1.CustomerJourney
		c := readyCondition(g, client.ObjectKeyFromObject(cj), &now)
		g.Expect(c.ObservedGeneration).To(Equal(now.Generation))
		g.Expect(now.Status.Gaps).To(HaveLen(1))
	}).Should(Succeed())
}

// TestAdmissionRefusesInvalidJourneys: the API server itself refuses a bad
// map, with a message naming the field.
func TestAdmissionRefusesInvalidJourneys(t *testing.T) {
	ns := namespace(t)
	tests := []struct {
		name   string
		mutate func(*cxv1.CustomerJourney)
		want   []string
	}{
		{"score out of range", func(cj *cxv1.CustomerJourney) {
			cj.Spec.Stages[0].Touchpoints[0].Experiences[0].Score = ptr.To[int32](7)
		},
			[]string{"spec.stages[0].touchpoints[0].experiences[0].score", "less than or equal to 2"}},
		{"target out of range", func(cj *cxv1.CustomerJourney) {
			cj.Spec.Stages[0].Touchpoints[0].Experiences[0].Target = ptr.To[int32](-3)
		},
			[]string{"spec.stages[0].touchpoints[0].experiences[0].target", "greater than or equal to -2"}},
		{"experience of an undeclared persona", func(cj *cxv1.CustomerJourney) { cj.Spec.Stages[1].Touchpoints[0].Experiences[0].Persona = "tourist" },
			[]string{"spec.stages", "experiences[].persona must be declared in spec.personas"}},
		{"pain point of an undeclared persona", func(cj *cxv1.CustomerJourney) {
			cj.Spec.Stages[1].Touchpoints[0].PainPoints[0].Personas = []string{"tourist"}
		}, []string{"spec.stages", "painPoints[].personas[] must be declared in spec.personas"}},
		{"duplicate persona names", func(cj *cxv1.CustomerJourney) { cj.Spec.Personas[1].Name = cj.Spec.Personas[0].Name },
			[]string{"spec.personas[1]", "Duplicate value"}},
		{"duplicate stage names", func(cj *cxv1.CustomerJourney) { cj.Spec.Stages[1].Name = cj.Spec.Stages[0].Name },
			[]string{"spec.stages", "every spec.stages[].name must be unique in the journey"}},
		{"duplicate touchpoint names in a stage", func(cj *cxv1.CustomerJourney) {
			cj.Spec.Stages[0].Touchpoints[1].Name = cj.Spec.Stages[0].Touchpoints[0].Name
		}, []string{"spec.stages[0].touchpoints[1]", "Duplicate value"}},
		// In Go, impact 0 means not sized yet and is left out; YAML can still send 0 (see raw).
		{"pain point with impact 0", func(*cxv1.CustomerJourney) {},
			[]string{"spec.stages[0].touchpoints[3].painPoints[0].impact", "greater than or equal to 1"}},
		{"pain point with effort 6", func(cj *cxv1.CustomerJourney) {
			cj.Spec.Stages[0].Touchpoints[3].PainPoints[0].Effort = 6
		},
			[]string{"spec.stages[0].touchpoints[3].painPoints[0].effort", "less than or equal to 5"}},
		{"empty stage", func(cj *cxv1.CustomerJourney) { cj.Spec.Stages[4].Touchpoints = nil },
			[]string{"spec.stages[4].touchpoints", "Required value"}},
		{"no personas", func(cj *cxv1.CustomerJourney) { cj.Spec.Personas = nil }, []string{"spec.personas", "Required value"}},
		{"unknown channel", func(cj *cxv1.CustomerJourney) { cj.Spec.Stages[0].Touchpoints[0].Channel = "carrier-pigeon" },
			[]string{"spec.stages[0].touchpoints[0].channel", "Unsupported value"}},
		{"other channel without a name", func(cj *cxv1.CustomerJourney) { cj.Spec.Stages[2].Touchpoints[1].ChannelName = "" },
			[]string{"spec.stages[2].touchpoints[1].channelName", "channelName is required when channel is other"}},
		{"bad review schedule field", func(cj *cxv1.CustomerJourney) { cj.Spec.Review.StartingDeadlineSeconds = ptr.To[int64](-1) },
			[]string{"spec.review.startingDeadlineSeconds"}},
		{"api URL that is not a URL", func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker.GitHub.APIURL = "github.example.com" },
			[]string{"spec.tracker.github.apiURL", "apiURL must be an http(s) URL"}},
		{"tracker without secret", func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker.GitHub.SecretRef.Name = "" },
			[]string{"spec.tracker.github.secretRef", "Required value"}},
	}
	// raw edits a journey as JSON, for what the Go types cannot say.
	raw := map[string]func(obj map[string]any){
		"pain point with impact 0": func(obj map[string]any) {
			jsonAt(obj, "spec", "stages", 0, "touchpoints", 3, "painPoints", 0)["impact"] = 0
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cj := sampleJourney(t, ns)
			cj.Name = "invalid"
			tt.mutate(cj)
			var obj client.Object = cj
			if edit := raw[tt.name]; edit != nil {
				obj = rawObject(t, cj, edit)
			}
			err := k8sClient.Create(context.Background(), obj)
			if err == nil {
				_ = k8sClient.Delete(context.Background(), obj)
				t.Fatalf("the API server accepted the invalid journey")
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err.Error(), w)
				}
			}
		})
	}
}

// rawObject is cj as unstructured JSON, edited by edit.
func rawObject(t *testing.T, cj *cxv1.CustomerJourney, edit func(map[string]any)) *unstructured.Unstructured {
	t.Helper()
	data, err := json.Marshal(cj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(data, &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetGroupVersionKind(cxv1.GroupVersion.WithKind("CustomerJourney"))
	edit(u.Object)
	return u
}

// jsonAt walks obj by field names and list indexes to an object.
func jsonAt(obj map[string]any, path ...any) map[string]any {
	var v any = obj
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v.(map[string]any)
}

// bigJourney is a full-size map: n touchpoints over stages of at most 40,
// every persona scored everywhere, one sized pain point per touchpoint.
func bigJourney(ns string, touchpoints, personas int) *cxv1.CustomerJourney {
	names := journeytest.Names("persona-%d", personas)
	channels := []cxv1.Channel{"web", "mobile-app", "email", "phone", "chat", "social", "store", "print", "tv", "radio", "event", "in-person", "partner", "signage", "mail", "self-service"}
	return journeytest.New(ns, "big", journeytest.Owner("CX"), journeytest.Personas("a goal", names...),
		journeytest.Touchpoints(touchpoints, func(tp *cxv1.Touchpoint, at journeytest.Place) {
			i := at.Index
			tp.Channel, tp.Owner, tp.MomentOfTruth, tp.TopTask = channels[i%len(channels)], "Department", ptr.To(at.InStage == 0), ptr.To(i%10 == 0)
			for p, name := range names {
				tp.Experiences = append(tp.Experiences, cxv1.Experience{Persona: name, Score: ptr.To(int32((i+p)%5 - 2)), Target: ptr.To[int32](2), Note: "A note of some length about how this persona feels at this touchpoint."})
			}
			tp.PainPoints = []cxv1.PainPoint{{ID: fmt.Sprintf("pain-%d", i), Summary: "Something goes wrong here that customers notice.", Personas: []string{"persona-0"},
				Impact: int32(i%5 + 1), Effort: int32((i/5)%5 + 1)}}
		}))
}

func TestFullSizeJourneyReachesReady(t *testing.T) {
	g := eventually(t)
	startJourneyController(t)
	cj := bigJourney(namespace(t), 140, 4)
	raw, _ := yaml.Marshal(cj)
	g.Expect(len(raw)).To(BeNumerically("<", 256*1024), "a full map must stay well under etcd's 1.5 MiB")
	g.Expect(k8sClient.Create(context.Background(), cj)).To(Succeed())
	g.Eventually(func(g Gomega) {
		var got cxv1.CustomerJourney
		c := readyCondition(g, client.ObjectKeyFromObject(cj), &got)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(got.Status.Summary.Touchpoints).To(Equal(int32(140)))
		g.Expect(got.Status.Summary.Personas).To(Equal(int32(4)))
	}).Should(Succeed())
}

// TestDuplicatePainPointIDsStall: what admission cannot check cheaply the
// controller reports as Stalled, naming the field.
func TestDuplicatePainPointIDsStall(t *testing.T) {
	g := eventually(t)
	startJourneyController(t)
	cj := sampleJourney(t, namespace(t))
	cj.Spec.Stages[3].Touchpoints[1].PainPoints[0].ID = "phone-queue"
	g.Expect(k8sClient.Create(context.Background(), cj)).To(Succeed())
	g.Eventually(func(g Gomega) {
		var got cxv1.CustomerJourney
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(cj), &got)).To(Succeed())
		stalled := meta.FindStatusCondition(got.Status.Conditions, cxv1.ConditionStalled)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Reason).To(Equal(cxv1.ReasonInvalidMap))
		g.Expect(stalled.Message).To(ContainSubstring(`spec.stages[3].touchpoints[1].painPoints[0].id: pain point id "phone-queue" is already used`))
		g.Expect(meta.IsStatusConditionFalse(got.Status.Conditions, cxv1.ConditionReady)).To(BeTrue())
	}).Should(Succeed())
}
