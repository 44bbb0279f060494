package main

import (
	"image"
	"image/color"
	"math"
)

// canvas is an image with anti-aliased fill operations. Every shape is given
// by a coverage function that returns how much of a pixel it covers, from 0
// to 1; fill blends the colour over the pixel by that amount.
type canvas struct {
	img *image.NRGBA
}

func newCanvas(width, height int) *canvas {
	return &canvas{img: image.NewNRGBA(image.Rect(0, 0, width, height))}
}

// fill blends c over every pixel by coverage(x, y), where (x, y) is the
// pixel's top-left corner.
func (cv *canvas) fill(c color.NRGBA, coverage func(x, y float64) float64) {
	b := cv.img.Bounds()
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			a := coverage(float64(px), float64(py))
			if a <= 0 {
				continue
			}
			cv.blend(px, py, c, math.Min(a, 1))
		}
	}
}

// blend draws c with opacity alpha (0 to 1, times c's own alpha) over the
// pixel, with straight (non-premultiplied) alpha as in image.NRGBA.
func (cv *canvas) blend(px, py int, c color.NRGBA, alpha float64) {
	src := alpha * float64(c.A) / 255
	dst := cv.img.NRGBAAt(px, py)
	dstA := float64(dst.A) / 255
	outA := src + dstA*(1-src)
	if outA == 0 {
		return
	}
	mix := func(s, d uint8) uint8 {
		v := (float64(s)*src + float64(d)*dstA*(1-src)) / outA
		return uint8(math.Round(v))
	}
	cv.img.SetNRGBA(px, py, color.NRGBA{
		R: mix(c.R, dst.R), G: mix(c.G, dst.G), B: mix(c.B, dst.B),
		A: uint8(math.Round(outA * 255)),
	})
}

// supersampled returns the coverage of inside over a pixel, from a 4x4 grid
// of samples. It suits shapes given only as an inside test.
func supersampled(inside func(x, y float64) bool) func(x, y float64) float64 {
	const n = 4
	return func(x, y float64) float64 {
		hits := 0
		for i := range n {
			for j := range n {
				if inside(x+(float64(i)+0.5)/n, y+(float64(j)+0.5)/n) {
					hits++
				}
			}
		}
		return float64(hits) / (n * n)
	}
}

// fromDistance returns the coverage of a stroke of width w around the shape
// whose distance function is dist, with a one-pixel soft edge.
func fromDistance(dist func(x, y float64) float64, w float64) func(x, y float64) float64 {
	return func(x, y float64) float64 {
		d := dist(x+0.5, y+0.5)
		return clamp(w/2+0.5-d, 0, 1)
	}
}

func clamp(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}

// point is a position in pixels, y pointing down.
type point struct{ x, y float64 }

// segmentDistance is the distance from p to the segment a–b.
func segmentDistance(p, a, b point) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = clamp(((p.x-a.x)*dx+(p.y-a.y)*dy)/l2, 0, 1)
	}
	return math.Hypot(p.x-(a.x+t*dx), p.y-(a.y+t*dy))
}

// arcDistance is the distance from p to the circular arc around center with
// radius r from angle `from` to angle `to` in degrees, counter-clockwise as
// seen on screen (y down), so 90 is straight up.
func arcDistance(p, center point, r, from, to float64) float64 {
	angle := math.Atan2(center.y-p.y, p.x-center.x) * 180 / math.Pi
	if withinArc(angle, from, to) {
		return math.Abs(math.Hypot(p.x-center.x, p.y-center.y) - r)
	}
	end := func(deg float64) point {
		rad := deg * math.Pi / 180
		return point{center.x + r*math.Cos(rad), center.y - r*math.Sin(rad)}
	}
	a, b := end(from), end(to)
	return math.Min(math.Hypot(p.x-a.x, p.y-a.y), math.Hypot(p.x-b.x, p.y-b.y))
}

// withinArc reports whether angle lies on the counter-clockwise sweep from
// `from` to `to`, all in degrees.
func withinArc(angle, from, to float64) bool {
	sweep := math.Mod(to-from+720, 360)
	offset := math.Mod(angle-from+720, 360)
	return offset <= sweep
}
