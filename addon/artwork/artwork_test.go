package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// maxChannelDiff allows for floating-point differences between CPU
// architectures (fused multiply-add), which may move an edge pixel by a step.
const maxChannelDiff = 2

// TestCommittedPicturesMatchCode fails when icon.png or logo.png in addon/
// is not what this program draws; run "go run ./addon/artwork -out addon"
// from the repository root after changing the drawing.
func TestCommittedPicturesMatchCode(t *testing.T) {
	for _, tc := range []struct {
		file          string
		draw          func() image.Image
		width, height int
	}{
		{"icon.png", drawIcon, iconSize, iconSize},
		{"logo.png", drawLogo, logoWidth, logoHeight},
	} {
		t.Run(tc.file, func(t *testing.T) {
			committed := readPNG(t, filepath.Join("..", tc.file))
			if got := committed.Bounds().Size(); got != image.Pt(tc.width, tc.height) {
				t.Fatalf("%s is %dx%d, want %dx%d", tc.file, got.X, got.Y, tc.width, tc.height)
			}
			drawn := tc.draw()
			differing := 0
			for y := range tc.height {
				for x := range tc.width {
					if !similar(committed.At(x, y), drawn.At(x, y)) {
						differing++
					}
				}
			}
			if differing > 0 {
				t.Errorf("%d pixels of %s differ from the drawing; regenerate it", differing, tc.file)
			}
		})
	}
}

func TestWritePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "icon.png")
	if err := writePNG(path, drawIcon()); err != nil {
		t.Fatalf("writePNG: %v", err)
	}
	if got := readPNG(t, path).Bounds().Size(); got != image.Pt(iconSize, iconSize) {
		t.Errorf("written icon is %v, want %dx%d", got, iconSize, iconSize)
	}
	if err := writePNG(filepath.Join(t.TempDir(), "missing", "x.png"), drawIcon()); err == nil {
		t.Errorf("writePNG into a missing folder succeeded")
	}
}

func TestIconIsOpaqueAndLogoHasTransparentCorners(t *testing.T) {
	icon := drawIcon()
	if _, _, _, a := icon.At(iconSize/2, iconSize/2).RGBA(); a != 0xffff {
		t.Errorf("icon centre alpha = %#x, want opaque", a)
	}
	// The rounded corner leaves the corner pixel transparent.
	if _, _, _, a := icon.At(0, 0).RGBA(); a != 0 {
		t.Errorf("icon corner alpha = %#x, want transparent", a)
	}
	logo := drawLogo()
	if _, _, _, a := logo.At(logoWidth-1, 0).RGBA(); a != 0 {
		t.Errorf("logo corner alpha = %#x, want transparent", a)
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

func similar(a, b interface{ RGBA() (r, g, b, a uint32) }) bool {
	ar, ag, ab, aa := a.RGBA()
	br, bg, bb, ba := b.RGBA()
	for _, pair := range [][2]uint32{{ar, br}, {ag, bg}, {ab, bb}, {aa, ba}} {
		d := int(pair[0]>>8) - int(pair[1]>>8)
		if d < -maxChannelDiff || d > maxChannelDiff {
			return false
		}
	}
	return true
}
