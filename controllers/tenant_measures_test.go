package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/outcome"
)

// namespaceSource records the namespace each query is asked for.
type namespaceSource struct{ namespaces []string }

func (n *namespaceSource) Query(_ context.Context, namespace, _ string, _ time.Time) (float64, error) {
	n.namespaces = append(n.namespaces, namespace)
	return 1, nil
}

func (n *namespaceSource) Mean(_ context.Context, namespace, _ string, _, _ time.Time) (float64, error) {
	n.namespaces = append(n.namespaces, namespace)
	return 1, nil
}

// TestMeasuresAreAskedForTheirNamespace: the journey's and the phase's
// queries carry the namespace the tenant label is enforced with.
func TestMeasuresAreAskedForTheirNamespace(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	cj := measuredJourney()
	cj.Namespace = "shop"
	src := &namespaceSource{}
	readMeasures(context.Background(), src, cj, at)
	if len(src.namespaces) != 2 || src.namespaces[0] != "shop" || src.namespaces[1] != "shop" {
		t.Errorf("readMeasures asked for namespaces %q, want shop twice", src.namespaces)
	}
	src.namespaces = nil
	w := outcome.WindowsFor(at.Add(-30*24*time.Hour), at.Add(-20*24*time.Hour), 7*24*time.Hour)
	if err := judgeOutcome(context.Background(), src, "shop", cj.Spec.Stages[0].Touchpoints[0].Measures[0], w, &cxv1.ItemOutcome{}); err != nil {
		t.Fatal(err)
	}
	if len(src.namespaces) != 2 || src.namespaces[0] != "shop" || src.namespaces[1] != "shop" {
		t.Errorf("judgeOutcome asked for namespaces %q, want shop twice", src.namespaces)
	}
}

// TestUnparsableQueryNamesItsField: with the tenant label enforced, a query
// that does not parse is refused before anything is sent (the address
// answers nothing) and the condition names the field to fix.
func TestUnparsableQueryNamesItsField(t *testing.T) {
	src, err := metricsource.New(metricsource.Config{Address: "http://127.0.0.1:1", TenantLabel: "namespace", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cj := measuredJourney()
	cj.Namespace = "shop"
	tp := &cj.Spec.Stages[0].Touchpoints[0]
	tp.PainPoints[1].Measures = []cxv1.Measure{{Name: "callbacks", Query: "sum(callbacks", Target: "1", Direction: cxv1.HigherIsBetter}}
	tp.Measures, tp.PainPoints[0].Measures = nil, nil
	readMeasures(context.Background(), src, cj, time.Now())
	c := findCondition(cj.Status.Conditions, cxv1.ConditionMeasuresReady)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != cxv1.ReasonBadQuery {
		t.Fatalf("condition %+v, want MeasuresReady=False BadQuery", c)
	}
	if want := "spec.stages[0].touchpoints[0].painPoints[1].measures[0].query"; !strings.Contains(c.Message, want) || !strings.Contains(c.Message, "does not parse") {
		t.Errorf("condition message %q does not name %s", c.Message, want)
	}
	t.Logf("MeasuresReady: %s", c.Message)
}
