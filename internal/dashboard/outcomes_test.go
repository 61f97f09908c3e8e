package dashboard

import (
	"fmt"
	"strings"
	"testing"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

func TestOutcomes(t *testing.T) {
	ps := phases()
	if strings.Contains(Render(museum(), ps, now), "Did it help?") {
		t.Error("an outcomes section without measured work")
	}
	improve := &ps[1]
	improve.Status.Items = append(improve.Status.Items,
		cxv1.PhaseItem{Key: "k1", Title: "Queue | at the desk", State: cxv1.ItemClosed, Issue: 41, URL: "https://github.com/acme/cx/issues/41",
			Outcome: &cxv1.ItemOutcome{Measure: "csat", Verdict: cxv1.VerdictImproved, Baseline: "3.1", After: "4.4", VerifiedAt: ts("2026-11-20T09:00:00Z")}},
		cxv1.PhaseItem{Key: "k2", Title: "Cold coffee", State: cxv1.ItemClosed, Issue: 42,
			Outcome: &cxv1.ItemOutcome{Measure: "csat", Verdict: cxv1.VerdictPending}},
		cxv1.PhaseItem{Key: "k3", Title: "Lift @ops broken", State: cxv1.ItemClosed, Issue: 43,
			Outcome: &cxv1.ItemOutcome{Measure: "drop-off", Verdict: cxv1.VerdictWorse, Baseline: "0.2", After: "0.3", VerifiedAt: ts("2026-11-21T09:00:00Z")}},
	)
	body := Render(museum(), ps, now)
	for _, want := range []string{
		"## Did it help?",
		"**Improved:** 1 · **Unchanged:** 0 · **Worse:** 1 · **No data:** 0 · **Waiting for the settle window:** 1",
		"| [#41](https://github.com/acme/cx/issues/41) | Queue \\| at the desk | csat | 3.1 | 4.4 | ✅ improved |",
		"| #42 | Cold coffee | csat | — | — | ⏳ pending |",
		"⚠️ worse",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(body, "@ops") {
		t.Error("an @mention got through")
	}
	// Latest verdict first, pending last.
	if i, j, k := strings.Index(body, "#43"), strings.Index(body, "#41"), strings.Index(body, "#42"); !(i < j && j < k) {
		t.Errorf("order %d %d %d", i, j, k)
	}

	// Bounded.
	for n := 0; n < 30; n++ {
		improve.Status.Items = append(improve.Status.Items, cxv1.PhaseItem{Key: fmt.Sprint("x", n), Title: "x", State: cxv1.ItemClosed, Issue: int64(100 + n),
			Outcome: &cxv1.ItemOutcome{Measure: "csat", Verdict: cxv1.VerdictUnchanged, VerifiedAt: ts("2026-11-01T09:00:00Z")}})
	}
	body = Render(museum(), ps, now)
	if !strings.Contains(body, "_and 23 more on the status page._") {
		t.Errorf("not bounded:\n%s", body[strings.Index(body, "## Did it help?"):])
	}
}
