package statuspage

import (
	"html/template"
	"strconv"
	"strings"
	"unicode/utf8"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"k8s.io/utils/ptr"
)

// Geometry of the emotion chart, in SVG user units (CSS pixels).
const (
	chartLeft  = 34  // room for the y labels
	chartRight = 12  // margin after the last touchpoint
	chartTop   = 26  // room for the stage names
	chartRow   = 22  // height of one score step
	chartStep  = 56  // distance between two touchpoints
	labelChars = 16  // longest touchpoint name shown in full
	stageChars = 8   // characters of a stage name per touchpoint of width
	maxScore   = 2   // the best feeling
	minScore   = -2  // the worst feeling
	chartAngle = -40 // slant of the touchpoint names, degrees
)

// paletteSize is the number of persona colours (classes p0…p11 in the CSS);
// a journey has at most 12 personas.
const paletteSize = 12

type chartView struct {
	ID            string // prefix of the ids in this SVG, unique in the page
	Width, Height int
	PlotLeft      int
	PlotRight     int
	PlotBottom    int
	Grid          []gridLine
	Stages        []stageMark
	Ticks         []tick
	Series        []series
	HasTargets    bool
	HasMoment     bool // a touchpoint is a moment of truth
	SVG           template.HTML
	Touchpoints   int
}

type gridLine struct {
	Y     int
	Label string
	Zero  bool
}

type stageMark struct {
	X, Mid int // left edge and middle
	Label  string
	Full   string
	Sep    bool // draw a separator at X
}

type tick struct {
	X, Y      int
	Transform string
	Label     string
	Full      string
	Moment    bool // moment of truth
}

type series struct {
	Persona string
	Class   string // pN: the persona's colour
	Points  string // polyline points of today's scores
	Count   int    // number of scored touchpoints
	DotX    int    // the single point, when Count == 1
	DotY    int
	Targets string // polyline points of the targets, when more than one
	TargetN int    // number of targets
	TDotX   int    // the single target, when TargetN == 1
	TDotY   int
}

// buildChart lays out the emotion curves of j's personas across its
// touchpoints, in stage order. It returns nil when no persona is scored.
func buildChart(j *cxv1.CustomerJourney, id string) *chartView {
	// Persona colours follow spec.personas; personas scored but not
	// declared (the API rejects them, but be lenient) come after.
	pos := make(map[string]int, len(j.Spec.Personas))
	var names []string
	for _, p := range j.Spec.Personas {
		if _, dup := pos[p.Name]; !dup {
			pos[p.Name] = len(names)
			names = append(names, p.Name)
		}
	}
	n := 0
	for _, s := range j.Spec.Stages {
		n += len(s.Touchpoints)
	}
	if n == 0 {
		return nil
	}
	for _, s := range j.Spec.Stages {
		for _, t := range s.Touchpoints {
			for _, e := range t.Experiences {
				if _, ok := pos[e.Persona]; !ok && e.Persona != "" {
					pos[e.Persona] = len(names)
					names = append(names, e.Persona)
				}
			}
		}
	}
	pts := make([]strings.Builder, len(names))
	tgts := make([]strings.Builder, len(names))
	tdots := make([][2]int, len(names))
	counts := make([]int, len(names))
	tcounts := make([]int, len(names))
	dots := make([][2]int, len(names))

	c := &chartView{ID: id, Touchpoints: n}
	c.PlotLeft = chartLeft
	c.PlotRight = chartLeft + n*chartStep
	c.Width = c.PlotRight + chartRight
	c.PlotBottom = y(minScore)
	longest := 0
	for _, s := range j.Spec.Stages {
		for _, t := range s.Touchpoints {
			l := utf8.RuneCountInString(ellipsis(t.Name, labelChars))
			if ptr.Deref(t.MomentOfTruth, false) {
				l += 2
				c.HasMoment = true
			}
			longest = max(longest, l)
		}
	}
	// Room for the slanted names: about 6.5px a character, at 40°.
	c.Height = c.PlotBottom + 24 + longest*42/10
	for v := maxScore; v >= minScore; v-- {
		l := strconv.Itoa(v)
		if v > 0 {
			l = "+" + l
		}
		c.Grid = append(c.Grid, gridLine{Y: y(int32(v)), Label: l, Zero: v == 0})
	}

	i := 0
	for si, s := range j.Spec.Stages {
		if len(s.Touchpoints) == 0 {
			continue
		}
		left := chartLeft + i*chartStep
		w := len(s.Touchpoints) * chartStep
		c.Stages = append(c.Stages, stageMark{
			X: left, Mid: left + w/2, Full: s.Name,
			Label: ellipsis(s.Name, max(3, len(s.Touchpoints)*stageChars)),
			Sep:   si > 0 && i > 0,
		})
		for _, t := range s.Touchpoints {
			x := chartLeft + i*chartStep + chartStep/2
			ty := c.PlotBottom + 14
			c.Ticks = append(c.Ticks, tick{
				X: x, Y: ty, Transform: "rotate(" + strconv.Itoa(chartAngle) + " " + strconv.Itoa(x) + " " + strconv.Itoa(ty) + ")",
				Label: ellipsis(t.Name, labelChars), Full: t.Name, Moment: ptr.Deref(t.MomentOfTruth, false),
			})
			seen := map[string]bool{}
			for _, e := range t.Experiences {
				p, ok := pos[e.Persona]
				if !ok || seen[e.Persona] {
					continue
				}
				seen[e.Persona] = true
				yy := y(ptr.Deref(e.Score, 0))
				addPoint(&pts[p], x, yy)
				counts[p]++
				dots[p] = [2]int{x, yy}
				if e.Target != nil {
					addPoint(&tgts[p], x, y(*e.Target))
					tdots[p] = [2]int{x, y(*e.Target)}
					tcounts[p]++
				}
			}
			i++
		}
	}
	scored := false
	for p, name := range names {
		if counts[p] == 0 && tcounts[p] == 0 {
			continue
		}
		scored = true
		sr := series{Persona: name, Class: "p" + strconv.Itoa(p%paletteSize), Count: counts[p], TargetN: tcounts[p]}
		if counts[p] > 1 {
			sr.Points = pts[p].String()
		}
		if counts[p] == 1 {
			sr.DotX, sr.DotY = dots[p][0], dots[p][1]
		}
		if tcounts[p] > 1 {
			sr.Targets = tgts[p].String()
		}
		if tcounts[p] == 1 {
			sr.TDotX, sr.TDotY = tdots[p][0], tdots[p][1]
		}
		if tcounts[p] > 0 {
			c.HasTargets = true
		}
		c.Series = append(c.Series, sr)
	}
	if !scored {
		return nil
	}
	c.SVG = c.svg()
	return c
}

// y maps a feeling, clamped to −2…+2, to the chart's y coordinate.
func y(score int32) int {
	s := min(max(int(score), minScore), maxScore)
	return chartTop + (maxScore-s)*chartRow
}

func addPoint(b *strings.Builder, x, y int) {
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(strconv.Itoa(x))
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(y))
}

// ellipsis shortens s to at most n characters, ending with "…" when cut.
func ellipsis(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
