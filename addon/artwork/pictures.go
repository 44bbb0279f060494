package main

import (
	"image"
	"image/color"
	"math"
)

var (
	brandRed = color.NRGBA{R: 0xD6, G: 0x2D, B: 0x4F, A: 0xFF}
	white    = color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}
)

// drawIcon draws the square icon: a white heart with a pulse line on a red
// rounded square.
func drawIcon() image.Image {
	cv := newCanvas(iconSize, iconSize)
	paintIcon(cv, 0, 0, iconSize)
	return cv.img
}

// drawLogo draws the icon beside the word "fitbridge" on a transparent background.
func drawLogo() image.Image {
	cv := newCanvas(logoWidth, logoHeight)
	const iconSide, margin = 76, 12
	paintIcon(cv, margin, (logoHeight-iconSide)/2, iconSide)
	paintWordmark(cv, margin+iconSide+margin, logoWidth-margin, logoHeight/2)
	return cv.img
}

// paintIcon paints the icon into the square of side size at (ox, oy). All
// measures are fractions of the side, so the icon scales.
func paintIcon(cv *canvas, ox, oy, size float64) {
	s := size / 128
	radius := 26 * s
	cv.fill(brandRed, supersampled(func(x, y float64) bool {
		return insideRoundedSquare(x-ox, y-oy, size, radius)
	}))

	// The heart curve (x²+y²-1)³ - x²y³ <= 0 spans about 2.3 units across.
	cx, cy, unit := ox+64*s, oy+66*s, 38*s
	cv.fill(white, supersampled(func(x, y float64) bool {
		hx, hy := (x-cx)/unit, (cy-y)/unit
		q := hx*hx + hy*hy - 1
		return q*q*q-hx*hx*hy*hy*hy <= 0
	}))

	// The pulse line is drawn in the background colour, so only the part
	// across the heart shows.
	pulse := []point{{14, 66}, {40, 66}, {48, 54}, {56, 82}, {66, 36}, {74, 76}, {80, 66}, {114, 66}}
	for i := range pulse {
		pulse[i] = point{ox + pulse[i].x*s, oy + pulse[i].y*s}
	}
	cv.fill(brandRed, fromDistance(func(x, y float64) float64 {
		d := math.Inf(1)
		for i := 1; i < len(pulse); i++ {
			d = math.Min(d, segmentDistance(point{x, y}, pulse[i-1], pulse[i]))
		}
		return d
	}, 6*s))
}

// insideRoundedSquare reports whether (x, y) lies in the square of side
// size at the origin with corners rounded to radius r.
func insideRoundedSquare(x, y, size, r float64) bool {
	if x < 0 || y < 0 || x > size || y > size {
		return false
	}
	nx := clamp(x, r, size-r)
	ny := clamp(y, r, size-r)
	return math.Hypot(x-nx, y-ny) <= r
}
