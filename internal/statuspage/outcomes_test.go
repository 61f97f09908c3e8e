package statuspage

import (
	"net/http"
	"strings"
	"testing"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

func TestJourneyPageShowsOutcomesAndMeasures(t *testing.T) {
	src := fixtures()
	// The target shown is the map's; ticket-desk is not (or no longer) in the map.
	cafe := &src.journeys[1].Spec.Stages[2].Touchpoints[0]
	if cafe.Name != "cafe" {
		t.Fatalf("fixtures changed: %s", cafe.Name)
	}
	cafe.Measures = []cxv1.Measure{{Name: "wait-<minutes>", Query: "max(wait)", Target: "5.5", Direction: cxv1.LowerIsBetter}}
	src.journeys[1].Status.Measures = []cxv1.MeasureStatus{
		{Stage: "visit", Touchpoint: "ticket-desk", Name: "csat", State: cxv1.MeasureMeetsTarget, Value: "4.4"},
		{Stage: "visit", Touchpoint: "cafe", Name: "wait-<minutes>", State: cxv1.MeasureNoData, Message: "no data at 2026-11-23T09:00:00Z"},
	}
	var ph *cxv1.ImprovementPhase
	for i := range src.phases {
		if src.phases[i].Namespace == src.journeys[1].Namespace && src.phases[i].Spec.JourneyRef.Name == src.journeys[1].Name {
			ph = &src.phases[i]
			break
		}
	}
	if ph == nil {
		t.Fatal("no phase of the museum in the fixtures")
	}
	ph.Status.Items = append(ph.Status.Items,
		cxv1.PhaseItem{Key: "painpoint/queue", Title: "Queue at the ticket desk", State: cxv1.ItemClosed, Issue: 41, URL: "https://github.com/acme/cx/issues/41",
			Outcome: &cxv1.ItemOutcome{Measure: "csat", Verdict: cxv1.VerdictImproved, Baseline: "3.1", After: "4.4", Message: "csat improved from 3.1 to 4.4"}},
		cxv1.PhaseItem{Key: "painpoint/cold-coffee", Title: "Cold coffee", State: cxv1.ItemClosed, Issue: 42,
			Outcome: &cxv1.ItemOutcome{Measure: "csat", Verdict: cxv1.VerdictPending, Message: "csat after the settle window is read at 2026-11-30T09:00:00Z"}},
	)
	res, body := get(t, newHandler(src), http.MethodGet, "/journeys/"+src.journeys[1].Namespace+"/"+src.journeys[1].Name)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	outcomes := between(t, body, "<h3>Did it help?</h3>", "<h3>Measures</h3>")
	assertContains(t, outcomes,
		`<a href="https://github.com/acme/cx/issues/41" rel="noopener noreferrer">#41</a>`,
		"<td>Queue at the ticket desk</td>", "<td>3.1</td>", "<td>4.4</td>", `<td class="verdict good">Improved</td>`,
		`<td class="verdict none">Pending</td>`, `title="csat after the settle window is read at 2026-11-30T09:00:00Z"`)
	measures := between(t, body, "<h3>Measures</h3>", "<h3>Gaps in the map</h3>")
	assertContains(t, measures, "<td>4.4</td>", "<td>MeetsTarget</td>", "<td>NoData</td>", "wait-&lt;minutes&gt;", "<td>5.5</td>", "<td>—</td>")
	if strings.Contains(body, "wait-<minutes>") {
		t.Error("a measure name is not escaped")
	}

	// A journey without measures or outcomes says so, and shows no empty table.
	_, body = get(t, newHandler(fixtures()), http.MethodGet, "/journeys/"+src.journeys[1].Namespace+"/"+src.journeys[1].Name)
	assertContains(t, body, "No closed work with a measure yet.")
	if strings.Contains(body, "<h3>Measures</h3>") {
		t.Error("measures section without measures")
	}
}
