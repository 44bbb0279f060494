package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Colours of the two series in the chart.
const (
	colourBroker    = "#7f8c8d"
	colourFitbridge = "#2e86de"
)

// bar is one labelled value of a bar group.
type bar struct {
	label  string
	value  float64
	colour string
}

// WriteSVG draws the results as two bar panels: throughput in msg/s, and
// the latency percentiles per rate in milliseconds on a log scale.
func WriteSVG(w io.Writer, r *Results) error {
	var b strings.Builder
	const width, height = 900, 450
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" `+
		`font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="18" font-size="14">fitbridge vs broker-only, %s</text>`+"\n",
		r.Started.UTC().Format("2006-01-02 15:04 UTC"))

	through := []bar{
		{"broker-only", r.Broker.PerSecond, colourBroker},
		{"fitbridge", r.Fitbridge.PerSecond, colourFitbridge},
	}
	if r.Pair.PerSecond > 0 {
		through = append(through, bar{"one instance", r.Single.PerSecond, colourFitbridge},
			bar{"two instances", r.Pair.PerSecond, colourFitbridge})
	}
	drawPanel(&b, 40, 50, 300, 300, "throughput (msg/s)", through, false)

	var lat []bar
	for _, row := range r.Latency {
		for _, q := range []struct {
			name string
			b, f time.Duration
		}{{"p50", row.Broker.P50, row.Fitbridge.P50}, {"p99", row.Broker.P99, row.Fitbridge.P99}} {
			tag := fmt.Sprintf("%s %gk", q.name, row.Rate/1000)
			lat = append(lat, bar{tag, float64(q.b) / 1e6, colourBroker},
				bar{tag, float64(q.f) / 1e6, colourFitbridge})
		}
	}
	drawPanel(&b, 400, 50, 470, 300, "latency publish to receipt (ms, log scale)", lat, true)

	fmt.Fprintf(&b, `<rect x="40" y="428" width="12" height="12" fill="%s"/>`+
		`<text x="58" y="438">broker-only (counting subscriber)</text>`+"\n", colourBroker)
	fmt.Fprintf(&b, `<rect x="280" y="428" width="12" height="12" fill="%s"/>`+
		`<text x="298" y="438">fitbridge (engine loop, or chart frame for latency)</text>`+"\n",
		colourFitbridge)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// drawPanel draws bars left to right in the box at x, y; logScale draws
// log10 heights from 0.01 up.
func drawPanel(b *strings.Builder, x, y, w, h float64, title string, bars []bar, logScale bool) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="12">%s</text>`+"\n", x, y-8, title)
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="black"/>`+"\n",
		x, y+h, x+w, y+h)
	if len(bars) == 0 {
		return
	}
	scale := func(v float64) float64 { return v }
	if logScale {
		scale = func(v float64) float64 { return max(log10(v)+2, 0) }
	}
	top := 0.0
	for _, br := range bars {
		top = max(top, scale(br.value))
	}
	if top == 0 {
		top = 1
	}
	slot := w / float64(len(bars))
	for i, br := range bars {
		bh := scale(br.value) / top * (h - 20)
		bx := x + float64(i)*slot + slot*0.1
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n",
			bx, y+h-bh, slot*0.8, bh, br.colour)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%s</text>`+"\n",
			bx+slot*0.4, y+h-bh-3, formatValue(br.value))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="9" `+
			`transform="rotate(-40 %.1f %.1f)">%s</text>`+"\n",
			bx+slot*0.4, y+h+12, bx+slot*0.4, y+h+12, br.label)
	}
}

func formatValue(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// log10 returns math.Log10 of v, or -10 for v <= 0.
func log10(v float64) float64 {
	if v <= 0 {
		return -10
	}
	return math.Log10(v)
}
