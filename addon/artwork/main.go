// Command artwork draws the add-on store pictures: icon.png, a 128x128
// square, and logo.png, 250x100. The pictures are made from code so that
// the repository holds their source:
//
//	go run ./addon/artwork -out addon
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// Sizes of the two pictures in pixels.
const (
	iconSize   = 128
	logoWidth  = 250
	logoHeight = 100
)

func main() {
	out := flag.String("out", "addon", "`DIR` to write icon.png and logo.png into")
	flag.Parse()
	for name, img := range map[string]image.Image{"icon.png": drawIcon(), "logo.png": drawLogo()} {
		if err := writePNG(filepath.Join(*out, name), img); err != nil {
			fmt.Fprintln(os.Stderr, "artwork:", err)
			os.Exit(1)
		}
	}
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}
