package statuspage

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
)

// The trend charts: a journey's health over time and a phase's burn-up
// with its deadline and forecast. Like the emotion chart, they are drawn
// here rather than in a template (see svg.go): everything written is a
// number or a constant, except names, which go through HTMLEscapeString.

const (
	trendWidth  = 560
	trendHeight = 180
	trendLeft   = 36
	trendRight  = 14
	trendTop    = 16
	trendBottom = 34 // room for the dates
)

// trendFrame maps times and values into a plot area.
type trendFrame struct {
	from, to time.Time
	max      float64
}

func (f trendFrame) x(t time.Time) int {
	span := f.to.Sub(f.from)
	if span <= 0 {
		return trendLeft
	}
	pos := float64(t.Sub(f.from)) / float64(span)
	pos = math.Min(1, math.Max(0, pos))
	return trendLeft + int(math.Round(pos*float64(trendWidth-trendLeft-trendRight)))
}

func (f trendFrame) y(v float64) int {
	if f.max <= 0 {
		return trendHeight - trendBottom
	}
	pos := math.Min(1, math.Max(0, v/f.max))
	return trendHeight - trendBottom - int(math.Round(pos*float64(trendHeight-trendBottom-trendTop)))
}

type svgWriter struct{ strings.Builder }

func (b *svgWriter) w(parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func shortDate(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02") }

// gridAndAxis draws horizontal grid lines at the given values and the first
// and last dates under the plot.
func (b *svgWriter) gridAndAxis(f trendFrame, values []int, loc *time.Location) {
	for _, v := range values {
		y := itoa(f.y(float64(v)))
		b.w(`<line class="grid" x1="`, itoa(trendLeft), `" x2="`, itoa(trendWidth-trendRight), `" y1="`, y, `" y2="`, y, `"/>`,
			`<text x="`, itoa(trendLeft-6), `" y="`, itoa(f.y(float64(v))+4), `" text-anchor="end">`, itoa(v), "</text>\n")
	}
	base := itoa(trendHeight - trendBottom + 16)
	b.w(`<text class="date" x="`, itoa(trendLeft), `" y="`, base, `" text-anchor="start">`, shortDate(f.from, loc), `</text>`,
		`<text class="date" x="`, itoa(trendWidth-trendRight), `" y="`, base, `" text-anchor="end">`, shortDate(f.to, loc), "</text>\n")
}

// healthChart draws the journey's health over time as steps: a figure
// holds until the next point. dots adds a dot per point with its figures
// (the journey's own page; the index of hundreds of journeys goes without).
// Empty without history.
func healthChart(points []cxv1.JourneyHistoryPoint, now time.Time, loc *time.Location, dots bool) template.HTML {
	if len(points) == 0 {
		return ""
	}
	first, last := points[0], points[len(points)-1]
	end := now
	if end.Before(last.Time.Time) {
		end = last.Time.Time
	}
	if !end.After(first.Time.Time) {
		end = first.Time.Time.Add(time.Hour)
	}
	f := trendFrame{from: first.Time.Time, to: end, max: 100}
	var b svgWriter
	b.w(`<svg xmlns="http://www.w3.org/2000/svg" width="`, itoa(trendWidth), `" height="`, itoa(trendHeight), `" viewBox="0 0 `, itoa(trendWidth), ` `, itoa(trendHeight),
		`" role="img" data-chart="health" data-points="`, itoa(len(points)), `" aria-label="Health score over time: `, itoa(int(first.HealthScore)), ` on `, shortDate(first.Time.Time, loc),
		`, `, itoa(int(last.HealthScore)), ` on `, shortDate(last.Time.Time, loc), `">`, "\n")
	b.gridAndAxis(f, []int{0, 25, 50, 75, 100}, loc)
	var pts strings.Builder
	add := func(t time.Time, v int32) {
		if pts.Len() > 0 {
			pts.WriteByte(' ')
		}
		pts.WriteString(itoa(f.x(t)) + "," + itoa(f.y(float64(v))))
	}
	for i, p := range points {
		if i > 0 {
			add(p.Time.Time, points[i-1].HealthScore)
		}
		add(p.Time.Time, p.HealthScore)
	}
	add(end, last.HealthScore)
	b.w(`<polyline class="health-line" points="`, pts.String(), `"/>`, "\n")
	for _, p := range points {
		if !dots {
			break
		}
		b.w(`<circle class="health-dot" cx="`, itoa(f.x(p.Time.Time)), `" cy="`, itoa(f.y(float64(p.HealthScore))), `" r="3"><title>`,
			shortDate(p.Time.Time, loc), `: health `, itoa(int(p.HealthScore)), `, `, itoa(int(p.Gaps)), ` gaps, `, itoa(int(p.OpenPainPoints)), ` pain points open`,
			"</title></circle>\n")
	}
	b.w("</svg>")
	return template.HTML(b.String())
}

// burnupChart draws a phase's burn-up: the planned work, the work closed
// (steps), the deadline, today and the forecast from today's figure to the
// projected completion. Empty when the phase has not started.
func burnupChart(name string, p burnup.Phase, fc burnup.Forecast, now time.Time, loc *time.Location) template.HTML {
	series := burnup.Series(p, now)
	if len(series) == 0 {
		return ""
	}
	end := series[len(series)-1].At
	horizon := now.AddDate(1, 0, 0)
	// A completed phase's chart ends when it completed; an open phase's
	// reaches its deadline (within a year) and its projected completion.
	if d := p.Deadline; p.CompletedAt.IsZero() && !d.IsZero() && d.AddDate(0, 0, 1).After(end) && d.Before(horizon) {
		end = d.AddDate(0, 0, 1)
	}
	forecast := p.CompletedAt.IsZero() && !fc.Projected.IsZero() && fc.Projected.Before(horizon)
	if forecast && fc.Projected.After(end) {
		end = fc.Projected
	}
	if !end.After(p.StartedAt) {
		end = p.StartedAt.Add(24 * time.Hour)
	}
	planned := series[0].Planned
	f := trendFrame{from: p.StartedAt, to: end, max: float64(max(planned, 1))}
	esc := template.HTMLEscapeString
	var b svgWriter
	b.w(`<svg xmlns="http://www.w3.org/2000/svg" width="`, itoa(trendWidth), `" height="`, itoa(trendHeight), `" viewBox="0 0 `, itoa(trendWidth), ` `, itoa(trendHeight),
		`" role="img" data-chart="burnup" data-phase="`, esc(name), `" data-schedule="`, string(fc.Schedule), `" aria-label="Burn-up of phase `, esc(name), `: `,
		itoa(fc.Closed), ` of `, itoa(planned), ` closed`, `">`, "\n")
	ticks := []int{0, planned}
	if planned >= 4 {
		ticks = []int{0, planned / 2, planned}
	}
	b.gridAndAxis(f, ticks, loc)
	top, bottom := itoa(trendTop-6), itoa(trendHeight-trendBottom)
	if !p.Deadline.IsZero() && f.x(p.Deadline.AddDate(0, 0, 1)) <= trendWidth-trendRight && !p.Deadline.AddDate(0, 0, 1).Before(p.StartedAt) {
		x := itoa(f.x(p.Deadline.AddDate(0, 0, 1)))
		b.w(`<line class="deadline" x1="`, x, `" x2="`, x, `" y1="`, top, `" y2="`, bottom, `"/>`,
			`<text class="deadline-label" x="`, x, `" y="`, itoa(trendTop+4), `" text-anchor="end" dx="-3">deadline `, p.Deadline.Format(time.DateOnly), "</text>\n")
	}
	if p.CompletedAt.IsZero() {
		x := itoa(f.x(now))
		b.w(`<line class="today" x1="`, x, `" x2="`, x, `" y1="`, top, `" y2="`, bottom, `"/>`, "\n")
	}
	y := itoa(f.y(float64(planned)))
	b.w(`<line class="scope" x1="`, itoa(f.x(p.StartedAt)), `" x2="`, itoa(f.x(end)), `" y1="`, y, `" y2="`, y, `"/>`, "\n")
	// Steps: the figure holds until the next close.
	pts := make([]string, 0, 2*len(series))
	for i, s := range series {
		x := itoa(f.x(s.At))
		if i > 0 {
			pts = append(pts, x+","+itoa(f.y(float64(series[i-1].Closed))))
		}
		pts = append(pts, x+","+itoa(f.y(float64(s.Closed))))
	}
	b.w(`<polyline class="closed" points="`, strings.Join(pts, " "), `"/>`, "\n")
	if forecast {
		b.w(`<line class="forecast" x1="`, itoa(f.x(now)), `" y1="`, itoa(f.y(float64(fc.Closed))), `" x2="`, itoa(f.x(fc.Projected)), `" y2="`, itoa(f.y(float64(planned))), `"/>`,
			`<circle class="forecast-end" cx="`, itoa(f.x(fc.Projected)), `" cy="`, itoa(f.y(float64(planned))), `" r="4"><title>projected `, fc.Projected.In(loc).Format(time.DateOnly), "</title></circle>\n")
	}
	b.w("</svg>")
	return template.HTML(b.String())
}

// scheduleText and scheduleClass show a schedule to a person.
func scheduleText(s burnup.Schedule) string { return s.Words() }

func scheduleClass(s burnup.Schedule) string {
	switch s {
	case burnup.OnTrack, burnup.Completed:
		return "ok"
	case burnup.AtRisk:
		return "risk"
	case burnup.Late:
		return "overdue"
	}
	return "muted"
}
