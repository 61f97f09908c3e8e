package workitem

import (
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/journey"
)

// reviewMap has two personas, a top task, a touchpoint scored and one
// never scored.
var reviewMap = journey.Map{
	Personas: []journey.Persona{{Name: "family", Description: "Parents with young children"}, {Name: "hiker"}},
	Stages: []journey.Stage{
		{Name: "planning", Touchpoints: []journey.Touchpoint{
			{Name: "website", TopTask: true, Experiences: []journey.Experience{{Persona: "family", Score: 3}}},
			{Name: "phone-line"},
		}},
		{Name: "visit", Touchpoints: []journey.Touchpoint{
			{Name: "trail-map", TopTask: true, Experiences: []journey.Experience{{Persona: "hiker", Score: -1}}},
		}},
	},
}

func TestReviewIssue(t *testing.T) {
	now := time.Date(2027, 5, 20, 9, 0, 0, 0, time.UTC)
	bare := time.Date(2027, 1, 4, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
	for _, tc := range []struct {
		name          string
		review        Review
		title         string
		want, wantNot []string
	}{
		{"a full review", Review{
			Namespace: "parks", Journey: "nature-park-visit", JourneyOwner: "Visitor Experience",
			// 23:30 UTC is the next day in the review's zone.
			Scheduled: time.Date(2027, 5, 19, 23, 30, 0, 0, time.UTC), Location: time.FixedZone("CEST", 2*3600),
			Map: reviewMap,
			OpenQuickWins: []OpenWork{
				{Title: "Newer win", URL: "https://github.com/acme/j/issues/9", Phase: "park-improve", OpenedAt: now.Add(-3 * 24 * time.Hour)},
				{Title: "Older win", URL: "https://github.com/acme/j/issues/4", Phase: "park-improve", OpenedAt: now.Add(-40*24*time.Hour - time.Hour)},
			},
			Unphased: []journey.Located{
				{PainPoint: journey.PainPoint{ID: "queue", Summary: "Queue at the gate", Impact: ip(3), Effort: ip(5)}, Stage: "visit", Touchpoint: "gate"},
				{PainPoint: journey.PainPoint{ID: "signs", Summary: "Faded signs", Impact: ip(2)}, Stage: "visit", Touchpoint: "trail-map"},
			},
			UnchangedReviews: 2,
			Now:              now,
		}, "Journey review 2027-05-20: nature-park-visit", []string{
			"review the customer journey map **nature-park-visit** (namespace parks, owner Visitor Experience)",
			"> The map has not changed since the last 2 review(s).",
			"- [ ] Walk as **family** through website, trail-map\n- [ ] Walk as **hiker** through website, trail-map\n",
			"- [ ] Is **family** still accurate? (Parents with young children)",
			"- [ ] Is **hiker** still accurate? (not set)",
			"### Touchpoints never scored\n- [ ] phone-line (planning)\n\n",
			"- [ ] [Older win](https://github.com/acme/j/issues/4) — open for 40 days (park-improve)\n- [ ] [Newer win](https://github.com/acme/j/issues/9) — open for 3 days (park-improve)\n",
			"- [ ] Queue at the gate at gate (visit): impact 3, effort 5\n",
			"- [ ] Faded signs at trail-map (visit): impact 2, effort ?\n",
			"Scheduled review of 2027-05-20 01:30 CEST.",
		}, []string{"Walk the whole journey", "None: every quick win is done"}},
		// No Location: the date is UTC's.
		{"a bare map", Review{
			Namespace: "ns", Journey: "j", Scheduled: bare, Now: bare,
			Map: journey.Map{Personas: []journey.Persona{{Name: "visitor"}}, Stages: []journey.Stage{{Name: "s", Touchpoints: []journey.Touchpoint{
				{Name: "t", Experiences: []journey.Experience{{Persona: "visitor", Score: 1}}}}}}},
		}, "Journey review 2027-01-05: j", []string{
			"(namespace ns, owner not set)",
			"- [ ] Walk the whole journey as **visitor**",
			"### Quick wins still open\nNone: every quick win is done or not yet opened.\n",
			"### Done when\n- [ ] The map is updated",
			"Scheduled review of 2027-01-05 04:30 UTC.",
		}, []string{"has not changed", "Touchpoints never scored", "Pain points no phase works on yet", "Walk as **"}},
		{"the map's text neutralised", Review{
			Namespace: "ns", Journey: "j", JourneyOwner: "@cx-team", Scheduled: now, Now: now,
			Map: journey.Map{
				Personas: []journey.Persona{{Name: "@everyone", Description: "<img src=x onerror=alert(1)>"}},
				Stages:   []journey.Stage{{Name: "s", Touchpoints: []journey.Touchpoint{{Name: "<b>gate</b>", TopTask: true}}}},
			},
			OpenQuickWins: []OpenWork{{Title: "Fix #12 for @octocat", URL: "https://github.com/a/b/issues/1", Phase: "p", OpenedAt: now}},
			Unphased:      []journey.Located{{PainPoint: journey.PainPoint{Summary: "<script>x</script>"}, Stage: "s", Touchpoint: "t"}},
		}, "Journey review 2027-05-20: j", []string{"open for 0 days", "impact ?, effort ?"},
			[]string{"@everyone", "@cx-team", "@octocat", "#12", "<img", "<b>", "<script>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			title, body := ReviewIssue(tc.review)
			if title != tc.title {
				t.Errorf("title %q, want %q", title, tc.title)
			}
			bodyHas(t, body, tc.want, tc.wantNot)
		})
	}
}
