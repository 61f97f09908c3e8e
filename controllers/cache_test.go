package controllers

import (
	"encoding/json"
	"fmt"
	"testing"
	"unsafe"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	sjson "sigs.k8s.io/json"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journeytest"
)

// The cache's transform keeps the journey as it was read, less its
// managedFields, with its repeated strings shared and its lists no longer
// than they are.
func TestCacheTransformKeepsTheJourney(t *testing.T) {
	in := journeytest.New("shop", "checkout", journeytest.Personas("", "buyer", "admin"), journeytest.StagesOf(12),
		journeytest.Touchpoints(12*12, func(tp *cxv1.Touchpoint, at journeytest.Place) {
			s, i := at.Stage, at.InStage
			*tp = cxv1.Touchpoint{Name: fmt.Sprintf("tp-%d-%d", s, i), Channel: "web", Owner: "Support",
				TopTask:     ptr.To(i == 0),
				Experiences: []cxv1.Experience{{Persona: "buyer", Score: ptr.To(int32(1)), Note: "slow"}, {Persona: "admin", Note: "slow"}},
				PainPoints:  []cxv1.PainPoint{{ID: fmt.Sprintf("pp-%d-%d", s, i), Summary: "gives up", Personas: []string{"buyer"}}}}
		}))
	in.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var decoded cxv1.CustomerJourney // as the informer decodes it
	if err := sjson.UnmarshalCaseSensitivePreserveInts(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	var transform func(any) (any, error)
	for o, by := range CacheOptions().ByObject {
		if _, ok := o.(*cxv1.CustomerJourney); ok {
			transform = by.Transform
		}
	}
	if transform == nil {
		t.Fatal("no transform for journeys")
	}
	out, err := transform(&decoded)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*cxv1.CustomerJourney)

	want := in.DeepCopy()
	want.ManagedFields = nil
	if !equality.Semantic.DeepEqual(want, got) {
		t.Fatal("the transform changed the journey beyond its managedFields")
	}
	for _, st := range got.Spec.Stages {
		if cap(st.Touchpoints) > 13 { // 12, rounded up to the allocator's size class
			t.Errorf("stage %s: room for %d touchpoints, holds %d", st.Name, cap(st.Touchpoints), len(st.Touchpoints))
		}
	}
	a := got.Spec.Stages[0].Touchpoints[0].Experiences[0].Persona
	b := got.Spec.Stages[11].Touchpoints[11].Experiences[0].Persona
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("the persona names of two touchpoints are two copies")
	}
}
