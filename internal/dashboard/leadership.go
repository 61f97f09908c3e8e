package dashboard

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
	"github.com/cxloop/cxloop/internal/markdown"
	"github.com/cxloop/cxloop/internal/phaseview"
)

// burnupColumns is the most columns of a burn-up chart: enough to see the
// trend, small enough that the issue stays short.
const burnupColumns = 8

// MaxBurnups bounds the burn-up charts in the issue: the method has four
// phases, and the body must stay well within GitHub's 65,536 characters.
const MaxBurnups = 4

// scheduleText shows a schedule with a colour that reads without the legend.
func scheduleText(s burnup.Schedule) string {
	mark := "⚪"
	switch s {
	case burnup.OnTrack:
		mark = "🟢"
	case burnup.AtRisk:
		mark = "🟠"
	case burnup.Late:
		mark = "🔴"
	case burnup.Completed:
		mark = "✅"
	}
	return mark + " " + s.Words()
}

// phaseSchedule is a phase's forecast and since when its schedule holds.
type phaseSchedule struct {
	p     *cxv1.ImprovementPhase
	f     burnup.Forecast
	since time.Time
}

func schedules(phases []*cxv1.ImprovementPhase, now time.Time) []phaseSchedule {
	out := make([]phaseSchedule, 0, len(phases))
	for _, p := range phases {
		f := phaseview.Forecast(p, now)
		out = append(out, phaseSchedule{p: p, f: f, since: phaseview.Since(p, f)})
	}
	return out
}

// writeProgramme writes the overview leadership reads first: how many
// phases are on track, at risk or late, which need attention since when,
// and the health trend.
func writeProgramme(b *strings.Builder, j *cxv1.CustomerJourney, scheds []phaseSchedule) {
	b.WriteString("## Where the programme stands\n\n")
	count := map[burnup.Schedule]int{}
	for _, s := range scheds {
		count[s.f.Schedule]++
	}
	fmt.Fprintf(b, "**On track:** %d · **At risk:** %d · **Late:** %d · **Completed:** %d · **Not started:** %d\n\n",
		count[burnup.OnTrack], count[burnup.AtRisk], count[burnup.Late], count[burnup.Completed], count[burnup.NotStarted])
	for _, s := range scheds {
		if s.f.Schedule != burnup.AtRisk && s.f.Schedule != burnup.Late {
			continue
		}
		line := fmt.Sprintf("- %s %s (%s)", scheduleText(s.f.Schedule), orDash(markdown.Line(string(s.p.Spec.Type))), markdown.Line(s.p.Name))
		if !s.since.IsZero() {
			line += " since " + s.since.UTC().Format(time.DateOnly)
		}
		line += ": " + markdown.Line(s.f.Reason) + "\n"
		b.WriteString(line)
	}
	if h := j.Status.History; len(h) > 0 {
		first, last := h[0], h[len(h)-1]
		fmt.Fprintf(b, "\nHealth %d on %s → %d on %s (%d recorded change%s).\n",
			first.HealthScore, first.Time.UTC().Format(time.DateOnly), last.HealthScore, last.Time.UTC().Format(time.DateOnly), len(h), plural(len(h)))
	}
	b.WriteString("\n")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// writeBurnups draws a burn-up chart per active phase: a Mermaid xychart
// with the work closed (then its forecast, columns marked *) and the work
// planned, from the phase's start to its deadline or projected completion.
func writeBurnups(b *strings.Builder, scheds []phaseSchedule, now time.Time) {
	var active []phaseSchedule
	for _, s := range scheds {
		if st := s.p.Status.State; (st == cxv1.PhaseActive || st == cxv1.PhaseSuspended) && s.f.Schedule != burnup.NotStarted {
			active = append(active, s)
		}
	}
	if len(active) > MaxBurnups {
		active = active[:MaxBurnups]
	}
	if len(active) == 0 {
		return
	}
	b.WriteString("## Burn-up\n\n")
	for _, s := range active {
		b.WriteString("```mermaid\n")
		b.WriteString(BurnupChart(s.p, s.f, now))
		b.WriteString("```\n\n")
		note := fmt.Sprintf("%s (%s): %d of %d closed", orDash(markdown.Line(string(s.p.Spec.Type))), markdown.Line(s.p.Name), s.f.Closed, s.f.Planned)
		if d := s.p.Spec.Deadline; d != "" {
			note += ", deadline " + markdown.Line(d)
		}
		if !s.f.Projected.IsZero() {
			note += ", projected " + s.f.Projected.UTC().Format(time.DateOnly)
		} else {
			note += ", no projected date yet"
		}
		b.WriteString(note + ". Columns marked * are the forecast at the recent closing rate.\n\n")
	}
}

// BurnupChart returns the Mermaid xychart-beta of phase p's burn-up,
// without the code fence: the first line is the work closed, the second the
// work planned.
func BurnupChart(p *cxv1.ImprovementPhase, f burnup.Forecast, now time.Time) string {
	cols := burnup.Columns(phaseview.Burnup(p), f, now, burnupColumns)
	labels := make([]string, 0, len(cols))
	closed := make([]string, 0, len(cols))
	planned := make([]string, 0, len(cols))
	for _, c := range cols {
		l := c.Day.Format("01-02")
		if c.Projected {
			l += "*"
		}
		if c.Deadline {
			l += " deadline"
		}
		labels = append(labels, `"`+l+`"`)
		closed = append(closed, strconv.Itoa(c.Closed))
		planned = append(planned, strconv.Itoa(c.Planned))
	}
	top := max(f.Planned, 1)
	var b strings.Builder
	b.WriteString("xychart-beta\n")
	fmt.Fprintf(&b, "    title \"%s %s - %s\"\n", xyText(string(p.Spec.Type)), xyText(p.Name), strings.TrimLeft(scheduleText(f.Schedule), "🟢🟠🔴✅⚪ "))
	fmt.Fprintf(&b, "    x-axis [%s]\n", strings.Join(labels, ", "))
	fmt.Fprintf(&b, "    y-axis \"Items\" 0 --> %d\n", top)
	fmt.Fprintf(&b, "    line [%s]\n", strings.Join(closed, ", "))
	fmt.Fprintf(&b, "    line [%s]\n", strings.Join(planned, ", "))
	return b.String()
}

// xyText keeps what is safe in a quoted xychart string: letters, digits,
// spaces and . _ - /; anything else becomes a space.
func xyText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-', r == '/':
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if len(out) > 60 {
		out = out[:60]
	}
	return out
}
