package dashboard

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/markdown"
)

// MaxOutcomes bounds the rows of the outcomes table.
const MaxOutcomes = 10

// writeOutcomes shows whether closed work made the difference its measure
// shows: a count per verdict and the latest verdicts, pending ones last.
// Nothing is written for a journey without measured work.
func writeOutcomes(b *strings.Builder, phases []*cxv1.ImprovementPhase) {
	type row struct {
		p  *cxv1.ImprovementPhase
		it *cxv1.PhaseItem
	}
	var rows []row
	count := map[cxv1.Verdict]int{}
	for _, p := range phases {
		for i := range p.Status.Items {
			if it := &p.Status.Items[i]; it.Outcome != nil {
				rows = append(rows, row{p, it})
				count[it.Outcome.Verdict]++
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Did it help?\n\n")
	fmt.Fprintf(b, "**Improved:** %d · **Unchanged:** %d · **Worse:** %d · **No data:** %d · **Waiting for the settle window:** %d\n\n",
		count[cxv1.VerdictImproved], count[cxv1.VerdictUnchanged], count[cxv1.VerdictWorse], count[cxv1.VerdictNoData], count[cxv1.VerdictPending])
	sort.SliceStable(rows, func(a, c int) bool {
		va, vc := rows[a].it.Outcome.VerifiedAt, rows[c].it.Outcome.VerifiedAt
		if (va == nil) != (vc == nil) {
			return va != nil
		}
		return va != nil && va.After(vc.Time)
	})
	b.WriteString("| Issue | Work | Measure | Before | After | Outcome |\n|---|---|---|---|---|---|\n")
	for i, r := range rows {
		if i == MaxOutcomes {
			fmt.Fprintf(b, "\n_and %d more on the status page._\n", len(rows)-MaxOutcomes)
			break
		}
		it, o := r.it, r.it.Outcome
		ref := "—"
		if it.Issue > 0 {
			ref = "#" + strconv.FormatInt(it.Issue, 10)
		}
		if u := markdown.URL(it.URL); u != "" && it.Issue > 0 {
			ref = "[" + ref + "](" + u + ")"
		}
		title := markdown.Line(it.Title)
		if title == "" {
			title = markdown.Line(it.Key)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", ref, title, markdown.Line(o.Measure), orDash(markdown.Line(o.Baseline)), orDash(markdown.Line(o.After)), verdictText(o.Verdict))
	}
	b.WriteByte('\n')
}

func verdictText(v cxv1.Verdict) string {
	switch v {
	case cxv1.VerdictImproved:
		return "✅ improved"
	case cxv1.VerdictUnchanged:
		return "➖ unchanged"
	case cxv1.VerdictWorse:
		return "⚠️ worse"
	case cxv1.VerdictNoData:
		return "❔ no data"
	}
	return "⏳ pending"
}
