package mirror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// The index blob is one JSON document, zstd-compressed, laid out so that
// it can be decoded in parallel: the header fields on the first line,
// ending with `"packages":[`, then one entry per line, then `]}`. Any JSON
// reader reads it as a whole; LoadIndex splits it at the newlines and
// decodes the entries on every CPU (the full bookworm index is 63k
// entries, about 80 MB of JSON). A blob laid out otherwise is decoded as
// plain JSON.

// indexHeader is Index without Packages.
type indexHeader struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	Origins []Origin  `json:"origins"`
	Scope   []string  `json:"scope,omitempty"`
	Input   string    `json:"input,omitempty"`
	Missing []string  `json:"missing,omitempty"`
}

const packagesOpen = `,"packages":[`

// encodeIndex is the index blob. It is compressed in one piece, so that
// the zstd frame records the text's size and the reader allocates it once.
func encodeIndex(ix *Index) ([]byte, error) {
	var text bytes.Buffer
	if err := writeIndexJSON(&text, ix); err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	zw, err := zstdEncoder()
	if err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	defer zw.Close()
	return zw.EncodeAll(text.Bytes(), make([]byte, 0, text.Len()/4)), nil
}

func writeIndexJSON(w io.Writer, ix *Index) error {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(indexHeader{Format: ix.Format, Created: ix.Created, Origins: ix.Origins, Scope: ix.Scope, Input: ix.Input, Missing: ix.Missing}); err != nil {
		return err
	}
	h := bytes.TrimSuffix(bytes.TrimSuffix(line.Bytes(), []byte("\n")), []byte("}"))
	if _, err := fmt.Fprintf(w, "%s%s\n", h, packagesOpen); err != nil {
		return err
	}
	for i := range ix.Packages {
		line.Reset()
		if err := enc.Encode(&ix.Packages[i]); err != nil {
			return err
		}
		b := line.Bytes()
		if i < len(ix.Packages)-1 {
			b = append(b[:len(b)-1], ",\n"...)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}\n")
	return err
}

func decodeIndex(blob []byte) (*Index, error) {
	zr, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	text, err := zr.DecodeAll(blob, nil)
	if err != nil {
		return nil, err
	}
	ix, err := decodeLines(text)
	if errors.Is(err, errLayout) {
		ix = &Index{}
		err = json.Unmarshal(text, ix)
	}
	if err != nil {
		return nil, err
	}
	if ix.Format != IndexFormat {
		return nil, fmt.Errorf("index format %d, this deb2fs reads %d", ix.Format, IndexFormat)
	}
	return ix, nil
}

var errLayout = errors.New("not laid out one entry per line")

// decodeLines decodes the line layout, the entries on every CPU.
func decodeLines(text []byte) (*Index, error) {
	head, rest, ok := bytes.Cut(text, []byte("\n"))
	if !ok || !bytes.HasSuffix(head, []byte(packagesOpen)) {
		return nil, errLayout
	}
	var h indexHeader
	if err := json.Unmarshal(append(bytes.TrimSuffix(head, []byte(packagesOpen)), '}'), &h); err != nil {
		return nil, err
	}
	ix := &Index{Format: h.Format, Created: h.Created, Origins: h.Origins, Scope: h.Scope, Input: h.Input, Missing: h.Missing}
	lines := bytes.Split(bytes.TrimSuffix(rest, []byte("\n")), []byte("\n"))
	if len(lines) == 0 || string(lines[len(lines)-1]) != "]}" {
		return nil, errLayout
	}
	lines = lines[:len(lines)-1]
	ix.Packages = make([]Entry, len(lines))
	n := runtime.GOMAXPROCS(0)
	chunk := (len(lines) + n - 1) / n
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(lines))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var f fastEntry
			for i := lo; i < hi; i++ {
				f = fastEntry{}
				l := bytes.TrimSuffix(lines[i], []byte(","))
				if err := json.Unmarshal(l, &f); err != nil {
					errs[w] = fmt.Errorf("entry %d: %w", i, err)
					return
				}
				if err := f.entry(&ix.Packages[i]); err != nil {
					errs[w] = fmt.Errorf("entry %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ix, nil
}

// fastEntry decodes an Entry with its layer's digests as plain strings:
// v1.Hash's UnmarshalJSON runs a nested json.Unmarshal per digest, which
// was a third of the load time. The outer Layer shadows Entry.Layer; every
// other field of Entry is decoded as usual.
type fastEntry struct {
	Entry
	Layer struct {
		Digest    string          `json:"digest"`
		DiffID    string          `json:"diffID"`
		Size      int64           `json:"size"`
		MediaType types.MediaType `json:"mediaType"`
		Manifest  string          `json:"manifest"`
	} `json:"layer"`
}

func (f *fastEntry) entry(e *Entry) error {
	*e = f.Entry
	l := &e.Layer
	l.Size, l.MediaType = f.Layer.Size, f.Layer.MediaType
	for _, h := range []struct {
		dst *v1.Hash
		s   string
	}{{&l.Digest, f.Layer.Digest}, {&l.DiffID, f.Layer.DiffID}, {&l.Manifest, f.Layer.Manifest}} {
		if h.s == "" {
			continue
		}
		v, err := v1.NewHash(h.s)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Package, err)
		}
		*h.dst = v
	}
	return nil
}

func zstdEncoder() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
}
