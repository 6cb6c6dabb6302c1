package web

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestYScale(t *testing.T) {
	for _, tc := range []struct{ peak, step, top int }{
		{0, 1, 1},
		{1, 1, 1},
		{4, 1, 4},
		{7, 2, 8},
		{10, 5, 10},
		{19, 5, 20},
		{100, 50, 100},
		{101, 50, 150},
		{1234, 500, 1500},
		{1_000_000, 500_000, 1_000_000},
	} {
		if step, top := yScale(tc.peak); step != tc.step || top != tc.top {
			t.Errorf("yScale(%d) = %d, %d; want %d, %d", tc.peak, step, top, tc.step, tc.top)
		}
	}
}

func TestFormatCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {10_000, "10,000"}, {1_000_000, "1,000,000"}, {-12345, "-12,345"},
	} {
		if got := formatCount(tc.n); got != tc.want {
			t.Errorf("formatCount(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0"}, {950, "950"}, {1000, "1k"}, {1500, "1.5k"}, {20_000, "20k"}, {1_200_000, "1.2M"},
	} {
		if got := compactCount(tc.n); got != tc.want {
			t.Errorf("compactCount(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// svgDoc is the part of the chart's SVG the tests look at.
type svgDoc struct {
	XMLName    xml.Name      `xml:"svg"`
	Role       string        `xml:"role,attr"`
	LabelledBy string        `xml:"aria-labelledby,attr"`
	ViewBox    string        `xml:"viewBox,attr"`
	Title      svgText       `xml:"title"`
	Desc       svgText       `xml:"desc"`
	Groups     []svgG        `xml:"g"`
	Polylines  []svgPolyline `xml:"polyline"`
}

type svgText struct {
	ID   string `xml:"id,attr"`
	Text string `xml:",chardata"`
}

type svgG struct {
	Class string    `xml:"class,attr"`
	Texts []svgText `xml:"text"`
}

type svgPolyline struct {
	Class     string `xml:"class,attr"`
	Dasharray string `xml:"stroke-dasharray,attr"`
	Points    string `xml:"points,attr"`
}

func TestHourlyChart(t *testing.T) {
	start := time.Date(2026, 5, 4, 13, 0, 0, 0, time.UTC) // a Monday
	signins, failures := make([]int, 168), make([]int, 168)
	signins[11] = 7  // Tue 5 May 00:00
	signins[20] = 3  // Tue 5 May 09:00
	failures[30] = 2 // Tue 5 May 19:00
	c := hourlyChart{ID: "signins", Title: "Sign-ins per hour <last 7 days>", Start: start, Series: []chartSeries{
		{Name: "sign-ins", Class: "chart-signins", Counts: signins},
		{Name: "failed sign-ins", Class: "chart-failures", Dashed: true, Counts: failures},
	}}
	raw := string(c.SVG())
	if strings.Contains(raw, "style=") {
		t.Errorf("the chart has a style attribute, which the CSP refuses:\n%s", raw)
	}
	var doc svgDoc
	if err := xml.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v\n%s", err, raw)
	}
	if doc.Role != "img" || doc.LabelledBy != "signins-title signins-desc" || doc.Title.ID != "signins-title" || doc.Desc.ID != "signins-desc" {
		t.Errorf("svg role %q, aria-labelledby %q, title id %q, desc id %q; want an img labelled by its title and desc",
			doc.Role, doc.LabelledBy, doc.Title.ID, doc.Desc.ID)
	}
	if doc.Title.Text != "Sign-ins per hour <last 7 days>" {
		t.Errorf("title = %q", doc.Title.Text)
	}
	wantDesc := "From Mon 4 May 13:00 to Mon 11 May 13:00 UTC: 10 sign-ins (at most 7 in one hour, from Tue 5 May 00:00); " +
		"2 failed sign-ins (at most 2 in one hour, from Tue 5 May 19:00)."
	if doc.Desc.Text != wantDesc {
		t.Errorf("desc = %q\nwant   %q", doc.Desc.Text, wantDesc)
	}
	if len(doc.Polylines) != 2 {
		t.Fatalf("chart has %d lines, want 2", len(doc.Polylines))
	}
	for i, p := range doc.Polylines {
		if n := len(strings.Fields(p.Points)); n != 168 {
			t.Errorf("line %d has %d points, want 168", i, n)
		}
	}
	if doc.Polylines[0].Class != "chart-line chart-signins" || doc.Polylines[1].Dasharray == "" {
		t.Errorf("lines = %+v, want sign-ins solid and failures dashed", doc.Polylines)
	}
	var yLabels, days []string
	for _, g := range doc.Groups {
		for _, tx := range g.Texts {
			if strings.Contains(g.Class, "chart-days") {
				days = append(days, tx.Text)
			} else {
				yLabels = append(yLabels, tx.Text)
			}
		}
	}
	if d := cmp.Diff([]string{"0", "2", "4", "6", "8"}, yLabels); d != "" {
		t.Errorf("y axis labels (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"Tue 5", "Wed 6", "Thu 7", "Fri 8", "Sat 9", "Sun 10", "Mon 11"}, days); d != "" {
		t.Errorf("x axis labels (-want +got):\n%s", d)
	}
	wantDays := []chartDay{
		{"Mon 4 May", []string{"0", "0"}}, {"Tue 5 May", []string{"10", "2"}}, {"Wed 6 May", []string{"0", "0"}},
		{"Thu 7 May", []string{"0", "0"}}, {"Fri 8 May", []string{"0", "0"}}, {"Sat 9 May", []string{"0", "0"}},
		{"Sun 10 May", []string{"0", "0"}}, {"Mon 11 May", []string{"0", "0"}},
	}
	if d := cmp.Diff(wantDays, c.Days()); d != "" {
		t.Errorf("Days() (-want +got):\n%s", d)
	}
}

// An empty week still draws a chart with a y axis, and says there was
// nothing.
func TestHourlyChartEmpty(t *testing.T) {
	c := hourlyChart{ID: "c", Title: "t", Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Series: []chartSeries{{Name: "sign-ins", Class: "chart-signins", Counts: make([]int, 168)}}}
	var doc svgDoc
	if err := xml.Unmarshal([]byte(c.SVG()), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.Desc.Text, ": 0 sign-ins.") {
		t.Errorf("desc = %q, want it to say 0 sign-ins", doc.Desc.Text)
	}
	if strings.Contains(string(c.SVG()), "NaN") {
		t.Error("the empty chart has NaN coordinates")
	}
}
