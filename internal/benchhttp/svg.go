package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// chart draws the targets of every run as horizontal bars, one group per
// target with a bar per store, and marks each target's bound with a line: a
// bar that must reach the line (≥) is green when it does, one that must stay
// short of it (≤) is green when it does. It is plain SVG with no script, so
// it renders on GitHub and in any browser.
func chart(runs []*report) []byte {
	const (
		width    = 760
		left     = 300 // room for the labels
		right    = 60
		barH     = 16
		groupGap = 14
		top      = 58
	)
	colours := []string{"#2b6cb0", "#805ad5"} // per store, for the legend
	checks := runs[0].checks()
	// Peak memory is in MiB, not a ratio; it is drawn as a share of its bound.
	scale := func(c check) (value, bound float64) {
		if c.bound > 10 {
			return c.value / c.bound, 1
		}
		return c.value, c.bound
	}
	maxX := 1.0
	for _, r := range runs {
		for _, c := range r.checks() {
			v, b := scale(c)
			maxX = math.Max(maxX, math.Max(v, b))
		}
	}
	maxX = math.Ceil(maxX*2) / 2
	plot := float64(width - left - right)
	x := func(v float64) float64 { return left + plot*math.Min(v, maxX)/maxX }
	height := top + len(checks)*(len(runs)*barH+groupGap) + 40

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="12" y="22" font-size="15" font-weight="600">Gatehouse make bench-http: ratios and their targets</text>`+"\n")
	for i, r := range runs {
		fmt.Fprintf(&b, `<rect x="%d" y="34" width="12" height="12" fill="%s"/><text x="%d" y="44">%s</text>`+"\n",
			12+i*220, colours[i%len(colours)], 30+i*220, html.EscapeString(r.name))
	}
	fmt.Fprintf(&b, `<text x="%d" y="44" fill="#555">line: target; green: met, red: missed</text>`+"\n", 12+len(runs)*220)
	// Grid.
	for v := 0.0; v <= maxX+1e-9; v += 0.5 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle" fill="#777">%.1f</text>`+"\n",
			x(v), top-6, x(v), height-34, x(v), height-20, v)
	}
	y := top
	for ci, c0 := range checks {
		label := c0.label
		if c0.bound > 10 {
			label += fmt.Sprintf(" (÷ %.0f)", c0.bound)
		}
		groupH := len(runs) * barH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+groupH/2+4, html.EscapeString(label))
		for ri, r := range runs {
			c := r.checks()[ci]
			v, bound := scale(c)
			fill := "#c53030"
			if c.met() {
				fill = "#2f855a"
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s" stroke="%s" stroke-width="2"/>`+"\n",
				left, y+ri*barH+1, x(v)-left, barH-2, fill, colours[ri%len(colours)])
			value := fmt.Sprintf("%.2f", c.value)
			if c.bound > 10 {
				value = fmt.Sprintf("%.0f MiB", c.value)
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#222">%s</text>`+"\n", math.Max(x(v), x(bound))+6, y+ri*barH+barH-4, value)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-width="2" stroke-dasharray="3 2"/>`+"\n",
				x(bound), y+ri*barH-1, x(bound), y+ri*barH+barH+1)
		}
		y += groupH + groupGap
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
