package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// maxMeasures is the most measures admission lets a map declare: all
// that status.measures (maxItems 500) can hold.
const maxMeasures = 500

// measuredBigJourney is bigJourney with n measures: three on each
// touchpoint, the rest two to a pain point, all with the longest names.
func measuredBigJourney(ns string, n int) *cxv1.CustomerJourney {
	cj := bigJourney(ns, 140, 4)
	measure := func(i int) cxv1.Measure {
		name := fmt.Sprintf("m%d-", i)
		name += strings.Repeat("x", 40-len(name))
		return cxv1.Measure{Name: name, Query: fmt.Sprintf(`avg(cx_satisfaction{touchpoint="t%d"})`, i), Target: "4.25", Direction: cxv1.HigherIsBetter}
	}
	placed := 0
	for pass := 0; pass < 3 && placed < n; pass++ {
		for s := range cj.Spec.Stages {
			for t := range cj.Spec.Stages[s].Touchpoints {
				if placed < n {
					tp := &cj.Spec.Stages[s].Touchpoints[t]
					tp.Measures = append(tp.Measures, measure(placed))
					placed++
				}
			}
		}
	}
	for s := range cj.Spec.Stages {
		for t := range cj.Spec.Stages[s].Touchpoints {
			for k := 0; k < 2 && placed < n; k++ {
				pp := &cj.Spec.Stages[s].Touchpoints[t].PainPoints[0]
				pp.Measures = append(pp.Measures, measure(placed))
				placed++
			}
		}
	}
	return cj
}

// TestMostMeasuresAdmissionAllowsFitInStatus: a journey the API server
// accepts can always write its status. A 140-touchpoint map with as many
// measures as admission allows reaches Ready with every measure in
// status; one more measure is refused at admission, naming the field.
func TestMostMeasuresAdmissionAllowsFitInStatus(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	startJourneyController(t)
	ns := namespace(t)

	tooMany := measuredBigJourney(ns, maxMeasures+1)
	tooMany.Name = "too-many"
	err := k8sClient.Create(ctx, tooMany)
	g.Expect(err).To(HaveOccurred(), "a map with more measures than status can hold was accepted")
	g.Expect(err.Error()).To(ContainSubstring("spec.stages"))
	g.Expect(err.Error()).To(ContainSubstring("status.measures"))
	t.Logf("%d measures: %v", maxMeasures+1, err)

	cj := measuredBigJourney(ns, maxMeasures)
	g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	g.Eventually(func(g Gomega) {
		var got cxv1.CustomerJourney
		c := readyCondition(g, client.ObjectKeyFromObject(cj), &got)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
		g.Expect(got.Status.Summary.Touchpoints).To(Equal(int32(140)))
		g.Expect(got.Status.Measures).To(HaveLen(maxMeasures))
	}).Should(Succeed())
	t.Logf("140 touchpoints with %d measures: Ready, %d in status.measures", maxMeasures, maxMeasures)
}
