package statuspage

import (
	"html/template"
	"strconv"
	"strings"
)

// svg draws the chart. It is written here rather than in the template
// because a page of hundreds of journeys holds tens of thousands of chart
// elements, and html/template's per-value escaping made up most of the time
// of rendering the page. Every text taken from the custom resources (stage,
// touchpoint and persona names) goes through template.HTMLEscapeString, which
// makes it safe both as element text and in a quoted attribute; everything
// else is numbers or constants of this package.
func (c *chartView) svg() template.HTML {
	var b strings.Builder
	b.Grow(2048 + 160*len(c.Ticks) + 300*len(c.Series))
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	esc := template.HTMLEscapeString
	itoa := strconv.Itoa
	width, height := itoa(c.Width), itoa(c.Height)
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="`, width, `" height="`, height, `" viewBox="0 0 `, width, ` `, height,
		`" role="img" aria-label="Emotion curve of each persona across `, itoa(c.Touchpoints),
		` touchpoints, from -2 (very negative) to +2 (very positive)">`, "\n")
	left, right := itoa(c.PlotLeft), itoa(c.PlotRight)
	for _, g := range c.Grid {
		cls := "grid"
		if g.Zero {
			cls = "grid zero"
		}
		y := itoa(g.Y)
		w(`<line class="`, cls, `" x1="`, left, `" x2="`, right, `" y1="`, y, `" y2="`, y, `"/>`,
			`<text x="`, itoa(c.PlotLeft-6), `" y="`, itoa(g.Y+4), `" text-anchor="end">`, g.Label, "</text>\n")
	}
	for _, s := range c.Stages {
		if s.Sep {
			x := itoa(s.X)
			w(`<line class="sep" x1="`, x, `" x2="`, x, `" y1="4" y2="`, itoa(c.PlotBottom), `"/>`)
		}
		w(`<text class="stage" x="`, itoa(s.Mid), `" y="14" text-anchor="middle"><title>`, esc(s.Full), `</title>`, esc(s.Label), "</text>\n")
	}
	for _, t := range c.Ticks {
		w(`<text x="`, itoa(t.X), `" y="`, itoa(t.Y), `" text-anchor="end" transform="`, t.Transform, `"`)
		if t.Moment {
			w(` class="mot"><title>`, esc(t.Full), ` (moment of truth)</title>`, esc(t.Label), " ★</text>\n")
		} else {
			w(`><title>`, esc(t.Full), `</title>`, esc(t.Label), "</text>\n")
		}
	}
	for _, s := range c.Series {
		w(`<g class="`, s.Class, `" data-persona="`, esc(s.Persona), `">`)
		switch {
		case s.Targets != "":
			w(`<polyline class="tg" points="`, s.Targets, `"/>`)
		case s.TargetN == 1:
			w(`<circle class="tdot" cx="`, itoa(s.TDotX), `" cy="`, itoa(s.TDotY), `" r="4"/>`)
		}
		switch {
		case s.Points != "":
			id := c.ID + "-" + s.Class
			w(`<marker id="`, id, `" class="`, s.Class, `" viewBox="0 0 8 8" refX="4" refY="4" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse">`,
				`<circle class="dot" cx="4" cy="4" r="3.5"/></marker>`,
				`<polyline class="ln" points="`, s.Points, `" marker-start="url(#`, id, `)" marker-mid="url(#`, id, `)" marker-end="url(#`, id, `)"/>`)
		case s.Count == 1:
			w(`<circle class="dot" cx="`, itoa(s.DotX), `" cy="`, itoa(s.DotY), `" r="3.5"/>`)
		}
		w("</g>\n")
	}
	w("</svg>")
	return template.HTML(b.String())
}
