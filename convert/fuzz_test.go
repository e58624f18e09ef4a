package convert

import (
	"context"
	"io"
	"testing"

	"github.com/deb2fs/deb2fs/fixtures"
)

// FuzzConvert feeds arbitrary bytes to Convert: it must return a layer or
// an error, never panic or hang. The seeds are the hand-made edge cases and
// hostile packages; `go test` runs them, `go test -fuzz FuzzConvert` mutates
// them.
func FuzzConvert(f *testing.F) {
	for _, e := range fixtures.EdgeCases() {
		f.Add(e.Deb.Bytes())
	}
	for _, h := range fixtures.Hostile() {
		f.Add(h.Bytes)
	}
	f.Fuzz(func(t *testing.T, deb []byte) {
		_, _ = Convert(context.Background(), bytesReader(deb), io.Discard, Options{XZ: XZGo})
	})
}

type bytesReaderT struct {
	b []byte
}

func bytesReader(b []byte) io.Reader { return &bytesReaderT{b} }

func (r *bytesReaderT) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
