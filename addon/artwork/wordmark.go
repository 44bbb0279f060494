package main

import "math"

// Glyph measures in units of the x-height, y pointing up from the baseline.
const (
	ascender   = 1.5
	descender  = 0.65
	letterGap  = 0.42
	strokeRate = 0.26 // stroke width per unit
)

// part is one stroke of a glyph: a segment from (x1, y1) to (x2, y2), or,
// when r > 0, an arc around (x1, y1) from angle x2 to angle y2 in degrees,
// counter-clockwise.
type part struct{ x1, y1, x2, y2, r float64 }

func seg(x1, y1, x2, y2 float64) part      { return part{x1, y1, x2, y2, 0} }
func arc(cx, cy, r, from, to float64) part { return part{cx, cy, from, to, r} }

type glyph struct {
	advance float64
	parts   []part
}

// glyphs are the lower-case letters of "fitbridge", drawn as strokes of
// lines and circular arcs.
var glyphs = map[rune]glyph{
	'f': {0.7, []part{seg(0.25, 0, 0.25, 1.15), arc(0.55, 1.15, 0.3, 30, 180), seg(0, 1, 0.6, 1)}},
	'i': {0.2, []part{seg(0.1, 0, 0.1, 1), seg(0.1, 1.38, 0.1, 1.4)}},
	't': {0.65, []part{seg(0.25, 1.4, 0.25, 0.25), arc(0.5, 0.25, 0.25, 180, 270), seg(0, 1, 0.6, 1)}},
	'b': {1, []part{seg(0, 0, 0, ascender), arc(0.5, 0.5, 0.5, 0, 359.9)}},
	'r': {0.7, []part{seg(0, 0, 0, 1), arc(0.45, 0.55, 0.45, 60, 180)}},
	'd': {1, []part{arc(0.5, 0.5, 0.5, 0, 359.9), seg(1, 0, 1, ascender)}},
	'g': {1, []part{arc(0.5, 0.5, 0.5, 0, 359.9), seg(1, 1, 1, -0.15), arc(0.5, -0.15, 0.5, 200, 360)}},
	'e': {1, []part{seg(0, 0.5, 1, 0.5), arc(0.5, 0.5, 0.5, 0, 320)}},
}

const word = "fitbridge"

// paintWordmark writes the word between x = left and x = right, centred
// vertically on midY, as large as the width allows.
func paintWordmark(cv *canvas, left, right, midY float64) {
	width := -letterGap
	for _, r := range word {
		width += glyphs[r].advance + letterGap
	}
	// The stroke sticks out by half its width at both ends.
	unit := (right - left) / (width + strokeRate)
	x0 := left + unit*strokeRate/2
	baseline := midY + (ascender-descender)/2*unit

	var strokes []func(p point) float64
	for _, r := range word {
		g := glyphs[r]
		for _, pt := range g.parts {
			strokes = append(strokes, strokeDistance(pt, x0, baseline, unit))
		}
		x0 += (g.advance + letterGap) * unit
	}
	cv.fill(brandRed, fromDistance(func(x, y float64) float64 {
		d := math.Inf(1)
		for _, s := range strokes {
			d = math.Min(d, s(point{x, y}))
		}
		return d
	}, strokeRate*unit))
}

// strokeDistance returns the pixel distance function of one glyph part
// placed with its origin at (x0, baseline) and scaled by unit pixels.
func strokeDistance(pt part, x0, baseline, unit float64) func(p point) float64 {
	at := func(x, y float64) point { return point{x0 + x*unit, baseline - y*unit} }
	if pt.r > 0 {
		center := at(pt.x1, pt.y1)
		return func(p point) float64 { return arcDistance(p, center, pt.r*unit, pt.x2, pt.y2) }
	}
	a, b := at(pt.x1, pt.y1), at(pt.x2, pt.y2)
	return func(p point) float64 { return segmentDistance(p, a, b) }
}
