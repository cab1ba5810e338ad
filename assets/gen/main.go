//go:build ignore

// Command gen draws the easbridge app icon: a blue rounded square with a
// white envelope and a green sync badge. Run from the repository root:
//
//	go run assets/gen/main.go
//
// It writes assets/icon.png (256×256). The result is committed; run this
// again only to change the design.
package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"
)

const (
	size = 256
	ss   = 4 // supersampling per axis
)

var (
	blueTop    = rgb(0x3d, 0x8e, 0xf0)
	blueBottom = rgb(0x17, 0x56, 0xc0)
	white      = rgb(0xff, 0xff, 0xff)
	flap       = rgb(0xd6, 0xe4, 0xf7)
	green      = rgb(0x22, 0xb0, 0x5f)
	clear      = color.NRGBA{}
)

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{r, g, b, 0xff} }

func main() {
	out := "assets/icon.png"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.Transparent, image.Point{}, draw.Src)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					c := shade(float64(x)+(float64(sx)+0.5)/ss, float64(y)+(float64(sy)+0.5)/ss)
					al := float64(c.A) / 255
					r += float64(c.R) * al
					g += float64(c.G) * al
					b += float64(c.B) * al
					a += al
				}
			}
			if a == 0 {
				continue
			}
			n := float64(ss * ss)
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(math.Round(r / a)), G: uint8(math.Round(g / a)), B: uint8(math.Round(b / a)),
				A: uint8(math.Round(a / n * 255)),
			})
		}
	}
	f, err := os.Create(out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// shade is the colour at one sample point, painting back to front.
func shade(x, y float64) color.NRGBA {
	// Background: rounded square with a vertical gradient.
	if roundBox(x, y, 128, 128, 120, 120, 52) > 0 {
		return clear
	}
	c := mix(blueTop, blueBottom, (y-8)/240)

	// Envelope body and the V of its flap.
	const ex0, ey0, ex1, ey1 = 40.0, 64.0, 200.0, 172.0
	if roundBox(x, y, (ex0+ex1)/2, (ey0+ey1)/2, (ex1-ex0)/2, (ey1-ey0)/2, 12) <= 0 {
		c = white
		if segDist(x, y, ex0+6, ey0+6, 120, 126) < 6 || segDist(x, y, ex1-6, ey0+6, 120, 126) < 6 {
			c = flap
		}
	}

	// Sync badge: green disc with a white rim and two circular arrows.
	const bx, by, br = 180.0, 180.0, 50.0
	d := math.Hypot(x-bx, y-by)
	switch {
	case d > br+8:
		return c
	case d > br:
		return white
	}
	c = green
	const ar, aw = 25.0, 5.5 // arc radius and half width
	ang := math.Atan2(y-by, x-bx) * 180 / math.Pi
	if ang < 0 {
		ang += 360
	}
	// Two arcs with gaps at 0–40° and 180–220°, arrowheads at 330° and 150°.
	if math.Abs(d-ar) < aw && ((ang > 40 && ang < 150) || (ang > 220 && ang < 330)) {
		return white
	}
	for _, end := range []float64{150, 330} {
		if arrowHead(x, y, bx, by, ar, end) {
			return white
		}
	}
	return c
}

// arrowHead reports whether (x, y) is in the arrowhead at angle end (degrees)
// of an arc of radius r around (cx, cy), pointing in the direction of
// increasing angle.
func arrowHead(x, y, cx, cy, r, end float64) bool {
	t := end * math.Pi / 180
	tip := (end + 30) * math.Pi / 180
	ax, ay := cx+(r-15)*math.Cos(t), cy+(r-15)*math.Sin(t)
	bx, by := cx+(r+15)*math.Cos(t), cy+(r+15)*math.Sin(t)
	px, py := cx+r*math.Cos(tip), cy+r*math.Sin(tip)
	return inTriangle(x, y, ax, ay, bx, by, px, py)
}

func inTriangle(x, y, ax, ay, bx, by, cx, cy float64) bool {
	s := func(px, py, qx, qy float64) float64 { return (x-qx)*(py-qy) - (px-qx)*(y-qy) }
	d1, d2, d3 := s(ax, ay, bx, by), s(bx, by, cx, cy), s(cx, cy, ax, ay)
	neg := d1 < 0 || d2 < 0 || d3 < 0
	pos := d1 > 0 || d2 > 0 || d3 > 0
	return !(neg && pos)
}

// roundBox is the signed distance to a rounded rectangle centred on (cx, cy)
// with half sizes hw, hh and corner radius r (negative inside).
func roundBox(x, y, cx, cy, hw, hh, r float64) float64 {
	qx := math.Abs(x-cx) - hw + r
	qy := math.Abs(y-cy) - hh + r
	out := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
	return out + math.Min(math.Max(qx, qy), 0) - r
}

// segDist is the distance from (x, y) to the segment (ax, ay)–(bx, by).
func segDist(x, y, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := ((x-ax)*dx + (y-ay)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(x-(ax+t*dx), y-(ay+t*dy))
}

func mix(a, b color.NRGBA, t float64) color.NRGBA {
	t = math.Max(0, math.Min(1, t))
	l := func(p, q uint8) uint8 { return uint8(math.Round(float64(p)*(1-t) + float64(q)*t)) }
	return color.NRGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 0xff}
}
