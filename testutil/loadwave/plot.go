package loadwave

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	shardtypes "github.com/repshard/repshard/x/shard/types"
)

var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, {R: 0xbc, G: 0xbd, B: 0x22, A: 0xff},
	{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

// WritePNG draws the wave as five panels over block height: the offered load
// against the workers' throughput, the ACTIVE shard count, the migrations of
// each block against the cap, the load of each shard, and the p50/p99 queue
// wait of the requests assigned in each block. Dotted lines mark the phases.
func (r Result) WritePNG(path, title string) error {
	cfg := r.Config
	throughput := float64(cfg.Workers) * float64(cfg.WorkerCapacity) / float64(cfg.ServiceBlocks)
	n := len(r.Blocks)
	xy := func(f func(Block) float64) plotter.XYs {
		pts := make(plotter.XYs, n)
		for i, b := range r.Blocks {
			pts[i].X, pts[i].Y = float64(b.Height), f(b)
		}
		return pts
	}
	bounds := r.phaseBounds()

	newPlot := func(ylabel string) *plot.Plot {
		p := plot.New()
		p.Y.Label.Text = ylabel
		p.Y.Label.TextStyle.Font.Size = vg.Points(11)
		p.Add(plotter.NewGrid())
		p.Legend.Top, p.Legend.Left = true, true
		p.Legend.TextStyle.Font.Size = vg.Points(10)
		return p
	}
	line := func(p *plot.Plot, name string, pts plotter.XYs, c color.Color, width vg.Length, dashed bool) error {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, width
		if dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l)
		if name != "" {
			p.Legend.Add(name, l)
		}
		return nil
	}
	marks := func(p *plot.Plot, top float64) error {
		for _, x := range bounds {
			l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: top}})
			if err != nil {
				return err
			}
			l.Color = color.Gray{Y: 0x90}
			l.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
			p.Add(l)
		}
		return nil
	}

	// 1. Offered load.
	p1 := newPlot("requests / block")
	p1.Title.Text = title
	p1.Title.TextStyle.Font.Size = vg.Points(14)
	peak := 0.0
	for _, b := range r.Blocks {
		peak = max(peak, float64(b.Arrivals))
	}
	if err := line(p1, "arrivals", xy(func(b Block) float64 { return float64(b.Arrivals) }), palette[0], vg.Points(2), false); err != nil {
		return err
	}
	if err := line(p1, fmt.Sprintf("worker throughput (%.0f / block)", throughput),
		xy(func(Block) float64 { return throughput }), palette[3], vg.Points(1.5), true); err != nil {
		return err
	}
	if err := line(p1, "assigned", xy(func(b Block) float64 { return float64(b.Assigned) }), palette[2], vg.Points(1), false); err != nil {
		return err
	}
	if err := marks(p1, peak*1.05); err != nil {
		return err
	}
	p1.Y.Min, p1.Y.Max = 0, peak*1.15

	// 2. Shard count.
	p2 := newPlot("ACTIVE shards")
	maxShards, maxMoves := 0.0, 0.0
	for _, b := range r.Blocks {
		maxShards = max(maxShards, float64(b.ActiveShards))
		maxMoves = max(maxMoves, float64(b.WorkersMoved+b.RequestsMoved))
	}
	if err := line(p2, "ACTIVE shards of the class", xy(func(b Block) float64 { return float64(b.ActiveShards) }),
		palette[4], vg.Points(2.5), false); err != nil {
		return err
	}
	if err := marks(p2, maxShards+1); err != nil {
		return err
	}
	p2.Y.Min, p2.Y.Max = 0, maxShards+1.5

	// 2b. Migrations.
	p5 := newPlot("migrated / block")
	if err := line(p5, fmt.Sprintf("workers + queued requests migrated (cap %d / block)", r.MigrationCap),
		xy(func(b Block) float64 { return float64(b.WorkersMoved + b.RequestsMoved) }), palette[5], vg.Points(1.5), false); err != nil {
		return err
	}
	if err := line(p5, "cap", xy(func(Block) float64 { return float64(r.MigrationCap) }), palette[3], vg.Points(1), true); err != nil {
		return err
	}
	if err := marks(p5, float64(r.MigrationCap)); err != nil {
		return err
	}
	p5.Y.Min, p5.Y.Max = 0, max(maxMoves, float64(r.MigrationCap))*1.4

	// 3. Load of each shard.
	p3 := newPlot("shard load (%)")
	for i, id := range r.shardIDs() {
		var pts plotter.XYs
		for _, b := range r.Blocks {
			for _, s := range b.Shards {
				if s.ID == id && s.Status == shardtypes.ShardActive {
					pts = append(pts, plotter.XY{X: float64(b.Height), Y: float64(s.LoadPpm) / 10_000})
				}
			}
		}
		if len(pts) == 0 {
			continue
		}
		if err := line(p3, fmt.Sprintf("shard %d", id), pts, palette[i%len(palette)], vg.Points(1.5), false); err != nil {
			return err
		}
	}
	if err := marks(p3, 100); err != nil {
		return err
	}
	p3.Y.Min, p3.Y.Max = 0, 125

	// 4. Queue wait.
	p4 := newPlot("queue wait (blocks)")
	p4.X.Label.Text = "block height   (dotted: warm-up | ramp up | hold | ramp down | cool-down)"
	maxWait := 1.0
	for _, b := range r.Blocks {
		maxWait = max(maxWait, float64(b.WaitP99))
	}
	if err := line(p4, "p50", xy(func(b Block) float64 { return float64(b.WaitP50) }), palette[0], vg.Points(1.5), false); err != nil {
		return err
	}
	if err := line(p4, "p99", xy(func(b Block) float64 { return float64(b.WaitP99) }), palette[3], vg.Points(1.5), false); err != nil {
		return err
	}
	if err := marks(p4, maxWait*1.05); err != nil {
		return err
	}
	p4.Y.Min, p4.Y.Max = 0, maxWait*1.25

	plots := [][]*plot.Plot{{p1}, {p2}, {p5}, {p3}, {p4}}
	xmin, xmax := float64(r.Blocks[0].Height), float64(r.Blocks[n-1].Height)
	for _, row := range plots {
		row[0].X.Min, row[0].X.Max = xmin, xmax
	}
	img := vgimg.New(vg.Inch*11, vg.Inch*14)
	dc := draw.New(img)
	dc.FillPolygon(color.White, []vg.Point{{X: 0, Y: 0}, {X: 0, Y: vg.Inch * 14}, {X: vg.Inch * 11, Y: vg.Inch * 14}, {X: vg.Inch * 11, Y: 0}})
	tiles := draw.Tiles{Rows: 5, Cols: 1, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// phaseBounds are the heights where the phases change.
func (r Result) phaseBounds() []float64 {
	var out []float64
	for i := 1; i < len(r.Blocks); i++ {
		if r.Blocks[i].Phase != r.Blocks[i-1].Phase {
			out = append(out, float64(r.Blocks[i].Height)-0.5)
		}
	}
	return out
}
