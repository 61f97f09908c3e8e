package workitem

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/journey"
)

// OpenWork is an issue of the journey still open, for the review.
type OpenWork struct {
	Title    string
	URL      string
	Phase    string
	OpenedAt time.Time
}

// Review is what a scheduled review of the map looks at.
type Review struct {
	Namespace, Journey, JourneyOwner string
	Scheduled                        time.Time
	Location                         *time.Location
	Map                              journey.Map
	// OpenQuickWins are the Improve phases' issues still open.
	OpenQuickWins []OpenWork
	// Unphased are sized pain points that no phase works on yet.
	Unphased []journey.Located
	// UnchangedReviews counts the reviews in a row at which the map had not changed.
	UnchangedReviews int
	Now              time.Time
}

// ReviewIssue is the title and body of the issue for one scheduled review:
// a checklist built from the map, so the review is more than a meeting.
func ReviewIssue(r Review) (title, body string) {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	day := r.Scheduled.In(loc).Format("2006-01-02")
	title = fmt.Sprintf("Journey review %s: %s", day, r.Journey)
	var b strings.Builder
	fmt.Fprintf(&b, "It is time to review the customer journey map **%s** (namespace %s, owner %s). A map that is not reviewed goes stale, and its improvements are never done.\n\n",
		safe(r.Journey), safe(r.Namespace), safe(orUnknown(r.JourneyOwner)))
	if r.UnchangedReviews > 0 {
		fmt.Fprintf(&b, "> The map has not changed since the last %d review(s). Is it still true?\n\n", r.UnchangedReviews)
	}

	b.WriteString("### Be your own customer\nWalk the journey yourself as each persona, through its top tasks:\n\n")
	topTasks := topTasks(r.Map)
	for _, p := range r.Map.Personas {
		if len(topTasks) == 0 {
			fmt.Fprintf(&b, "- [ ] Walk the whole journey as **%s**\n", safe(p.Name))
			continue
		}
		fmt.Fprintf(&b, "- [ ] Walk as **%s** through %s\n", safe(p.Name), safe(strings.Join(topTasks, ", ")))
	}

	b.WriteString("\n### Personas\n")
	for _, p := range r.Map.Personas {
		fmt.Fprintf(&b, "- [ ] Is **%s** still accurate? (%s)\n", safe(p.Name), safe(orUnknown(p.Description)))
	}

	if unscored := unscoredTouchpoints(r.Map); len(unscored) > 0 {
		b.WriteString("\n### Touchpoints never scored\n")
		for _, t := range unscored {
			fmt.Fprintf(&b, "- [ ] %s\n", safe(t))
		}
	}

	b.WriteString("\n### Quick wins still open\n")
	if len(r.OpenQuickWins) == 0 {
		b.WriteString("None: every quick win is done or not yet opened.\n")
	}
	sort.SliceStable(r.OpenQuickWins, func(i, j int) bool { return r.OpenQuickWins[i].OpenedAt.Before(r.OpenQuickWins[j].OpenedAt) })
	for _, w := range r.OpenQuickWins {
		days := int(r.Now.Sub(w.OpenedAt).Hours() / 24)
		fmt.Fprintf(&b, "- [ ] [%s](%s) — open for %d days (%s)\n", safe(w.Title), w.URL, days, safe(w.Phase))
	}

	if len(r.Unphased) > 0 {
		b.WriteString("\n### Pain points no phase works on yet\n")
		for _, p := range r.Unphased {
			fmt.Fprintf(&b, "- [ ] %s at %s (%s): impact %s, effort %s\n", safe(p.Summary), safe(p.Touchpoint), safe(p.Stage), size(p.Impact), size(p.Effort))
		}
	}

	b.WriteString("\n### Done when\n- [ ] The map is updated with what the walk showed (scores, targets, pain points)\n- [ ] Close this issue: cxloop records the review as done\n")
	fmt.Fprintf(&b, "\n---\nScheduled review of %s. _Opened by cxloop._\n", r.Scheduled.In(loc).Format("2006-01-02 15:04 MST"))
	return title, b.String()
}

func topTasks(m journey.Map) []string {
	var out []string
	for _, s := range m.Stages {
		for _, t := range s.Touchpoints {
			if t.TopTask {
				out = append(out, t.Name)
			}
		}
	}
	return out
}

func unscoredTouchpoints(m journey.Map) []string {
	var out []string
	for _, s := range m.Stages {
		for _, t := range s.Touchpoints {
			if len(t.Experiences) == 0 {
				out = append(out, t.Name+" ("+s.Name+")")
			}
		}
	}
	return out
}

func size(v *int) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprint(*v)
}
