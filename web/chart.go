package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// chartSeries is one line of an hourlyChart: a count for each hour.
type chartSeries struct {
	Name string // for the legend and the description, e.g. "sign-ins"
	// Class colours the line; gatehouse.css defines chart-signins and
	// chart-failures.
	Class string
	// Dashed draws the line dashed, so that the series differ by more than
	// colour.
	Dashed bool
	Counts []int
}

// hourlyChart is a line chart of counts per hour, drawn on the server as
// inline SVG: no script and no chart library. The Content-Security-Policy
// allows no style attributes, so the SVG is styled through classes in
// gatehouse.css and SVG presentation attributes only. It is an image to
// assistive technology, with a title and a description that states the
// totals; Days gives the same numbers per day for a table.
type hourlyChart struct {
	ID     string    // prefix of the SVG's element IDs, unique on the page
	Title  string    // e.g. "Sign-ins per hour, last 7 days"
	Start  time.Time // the start of the first hour
	Series []chartSeries
}

// The chart's geometry, in SVG user units. The viewBox scales to the width
// of its container; gatehouse.css enlarges the text on narrow screens.
const (
	chartW, chartH = 720, 260
	chartLeft      = 64 // room for the y axis labels
	chartRight     = 14
	chartTop       = 14
	chartBottom    = 40 // room for the x axis labels
)

// hours returns how many hours the chart spans: the length of its longest
// series.
func (c hourlyChart) hours() int {
	n := 0
	for _, s := range c.Series {
		n = max(n, len(s.Counts))
	}
	return n
}

// SVG renders the chart. Everything in it is either a number or text that is
// escaped here, so it is safe to mark as HTML.
func (c hourlyChart) SVG() template.HTML {
	n := c.hours()
	peak := 0
	for _, s := range c.Series {
		for _, v := range s.Counts {
			peak = max(peak, v)
		}
	}
	step, top := yScale(peak)
	plotW, plotH := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	x := func(i int) float64 {
		if n <= 1 {
			return chartLeft
		}
		return chartLeft + float64(i)*plotW/float64(n-1)
	}
	y := func(v int) float64 { return chartTop + plotH - float64(v)*plotH/float64(top) }

	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Description()))

	// Horizontal grid lines with the y axis labels.
	b.WriteString(`<g class="chart-grid">`)
	for v := 0; v <= top; v += step {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, chartLeft, chartW-chartRight, y(v), y(v))
	}
	b.WriteString(`</g><g class="chart-label" text-anchor="end">`)
	for v := 0; v <= top; v += step {
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" dy="0.35em">%s</text>`, chartLeft-8, y(v), compactCount(v))
	}
	b.WriteString(`</g>`)

	// A tick and a label at each midnight (UTC).
	b.WriteString(`<g class="chart-label chart-days" text-anchor="middle">`)
	for i := range n {
		h := c.Start.Add(time.Duration(i) * time.Hour).UTC()
		if h.Hour() != 0 {
			continue
		}
		fmt.Fprintf(&b, `<line class="chart-tick" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, x(i), x(i), chartTop, chartH-chartBottom+5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, x(i), chartH-chartBottom+22, h.Format("Mon 2"))
	}
	b.WriteString(`</g>`)

	for _, s := range c.Series {
		fmt.Fprintf(&b, `<polyline class="chart-line %s" fill="none" stroke-width="2" stroke-linejoin="round" vector-effect="non-scaling-stroke"`, esc(s.Class))
		if s.Dashed {
			b.WriteString(` stroke-dasharray="5 3"`)
		}
		b.WriteString(` points="`)
		for i, v := range s.Counts {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x(i), y(v))
		}
		b.WriteString(`"/>`)
	}
	// The axes last, over the lines that sit at zero.
	fmt.Fprintf(&b, `<line class="chart-axis" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, chartLeft, chartW-chartRight, y(0), y(0))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Description says in words what the chart shows: the period, and each
// series' total and busiest hour.
func (c hourlyChart) Description() string {
	n := c.hours()
	end := c.Start.Add(time.Duration(n) * time.Hour).UTC()
	parts := make([]string, 0, len(c.Series))
	for _, s := range c.Series {
		total, peak, at := 0, 0, -1
		for i, v := range s.Counts {
			total += v
			if v > peak {
				peak, at = v, i
			}
		}
		p := formatCount(total) + " " + s.Name
		if at >= 0 {
			p += fmt.Sprintf(" (at most %s in one hour, from %s)", formatCount(peak),
				c.Start.Add(time.Duration(at)*time.Hour).UTC().Format("Mon 2 Jan 15:04"))
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("From %s to %s UTC: %s.", c.Start.UTC().Format("Mon 2 Jan 15:04"), end.Format("Mon 2 Jan 15:04"),
		strings.Join(parts, "; "))
}

// chartDay is one day's totals of each series.
type chartDay struct {
	Label  string
	Counts []string // formatted, in the order of the series
}

// Days sums the series per day (UTC), oldest first, for a table beside the
// chart.
func (c hourlyChart) Days() []chartDay {
	var days []chartDay
	var sums [][]int
	last := ""
	for i := range c.hours() {
		label := c.Start.Add(time.Duration(i) * time.Hour).UTC().Format("Mon 2 Jan")
		if label != last {
			days = append(days, chartDay{Label: label})
			sums = append(sums, make([]int, len(c.Series)))
			last = label
		}
		for j, s := range c.Series {
			if i < len(s.Counts) {
				sums[len(sums)-1][j] += s.Counts[i]
			}
		}
	}
	for i := range days {
		for _, v := range sums[i] {
			days[i].Counts = append(days[i].Counts, formatCount(v))
		}
	}
	return days
}

// yScale picks the step between grid lines (1, 2 or 5 times a power of ten,
// at most four steps) and the top of the y axis, a whole number of steps at or
// above peak.
func yScale(peak int) (step, top int) {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if step = m * p; step*4 >= peak {
				return step, max(step, (peak+step-1)/step*step)
			}
		}
	}
}

// formatCount writes n with thousands separators: 1,000,000.
func formatCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// compactCount writes an axis label short enough for the chart's margin:
// 950, 1.5k, 20k, 1.2M.
func compactCount(n int) string {
	trim := func(f float64, unit string) string {
		s := strconv.FormatFloat(f, 'f', 1, 64)
		return strings.TrimSuffix(s, ".0") + unit
	}
	switch {
	case n >= 1_000_000:
		return trim(float64(n)/1_000_000, "M")
	case n >= 1_000:
		return trim(float64(n)/1_000, "k")
	}
	return strconv.Itoa(n)
}
