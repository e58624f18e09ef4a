package cli

import (
	"context"
	"os"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// progress is a bar on a terminal and nothing otherwise (the command then
// prints one summary line at the end, which suits logs and cron mail).
type progress struct {
	p   *mpb.Progress
	bar *mpb.Bar
}

func newProgress(ctx context.Context, name string, total int) *progress {
	if !term.IsTerminal(int(os.Stderr.Fd())) || total == 0 {
		return &progress{}
	}
	p := mpb.NewWithContext(ctx, mpb.WithOutput(os.Stderr), mpb.WithAutoRefresh())
	bar := p.AddBar(int64(total),
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.CountersNoUnit("%d / %d")),
		mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.EwmaETA(decor.ET_STYLE_GO, 30)),
	)
	return &progress{p: p, bar: bar}
}

// Increment counts one finished item.
func (p *progress) Increment() {
	if p.bar != nil {
		p.bar.Increment()
	}
}

// Wait removes the bar once everything is counted.
func (p *progress) Wait() {
	if p.p != nil {
		p.bar.SetTotal(-1, true)
		p.p.Wait()
	}
}
