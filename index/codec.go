package index

import (
	"bufio"
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
// reader reads it as a whole; Load splits it at the newlines and
// decodes the entries on every CPU (the full bookworm index is 63k
// entries, about 85 MB of JSON) as it is decompressed. A blob laid out
// otherwise is decoded as plain JSON.

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

// Encode is the index blob. It is compressed in one piece, so that
// the zstd frame records the text's size and the reader allocates it once.
func Encode(ix *Index) ([]byte, error) {
	var text bytes.Buffer
	if err := WriteJSON(&text, ix); err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	zw, err := zstdEncoder()
	if err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	defer zw.Close()
	return zw.EncodeAll(text.Bytes(), make([]byte, 0, text.Len()/4)), nil
}

func WriteJSON(w io.Writer, ix *Index) error {
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

// Decode decodes an index blob. The text is streamed: batches of
// entry lines go to one decoder per CPU as they are decompressed, so the
// decompressed text (about 85 MB for bookworm) is never held whole.
func Decode(blob []byte) (*Index, error) {
	zr, err := zstd.NewReader(bytes.NewReader(blob), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return nil, err
	}
	ix, err := decodeLines(zr)
	zr.Close()
	if errors.Is(err, errLayout) {
		// Plain JSON, laid out otherwise.
		if zr, err = zstd.NewReader(bytes.NewReader(blob), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30)); err != nil {
			return nil, err
		}
		defer zr.Close()
		ix = &Index{}
		err = json.NewDecoder(zr).Decode(ix)
	}
	if err != nil {
		return nil, err
	}
	if ix.Format != FormatVersion {
		return nil, fmt.Errorf("index format %d, this deb2fs reads %d", ix.Format, FormatVersion)
	}
	return ix, nil
}

var errLayout = errors.New("not laid out one entry per line")

// batchBytes is about how much entry text goes to a decoder at once.
const batchBytes = 256 << 10

// lineBatch is a run of entry lines: data holds them, ends their ends.
type lineBatch struct {
	first int // index of the first entry
	data  []byte
	ends  []int
	out   []Entry
	err   error
}

// decodeLines decodes the line layout from r, the entries on every CPU.
func decodeLines(r io.Reader) (*Index, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.ReadBytes('\n')
	head = bytes.TrimSuffix(head, []byte("\n"))
	if err != nil || !bytes.HasSuffix(head, []byte(packagesOpen)) {
		return nil, errLayout
	}
	var h indexHeader
	if err := json.Unmarshal(append(bytes.TrimSuffix(head, []byte(packagesOpen)), '}'), &h); err != nil {
		return nil, err
	}
	ix := &Index{Format: h.Format, Created: h.Created, Origins: h.Origins, Scope: h.Scope, Input: h.Input, Missing: h.Missing}

	n := runtime.GOMAXPROCS(0)
	work := make(chan *lineBatch, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.decode()
			}
		}()
	}
	var batches []*lineBatch
	cur := &lineBatch{data: make([]byte, 0, batchBytes+batchBytes/4)}
	count := 0
	send := func() {
		if len(cur.ends) > 0 {
			batches = append(batches, cur)
			work <- cur
		}
		cur = &lineBatch{first: count, data: make([]byte, 0, batchBytes+batchBytes/4)}
	}
	var readErr error
	closed := false
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An entry longer than the buffer: gather it.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			readErr = err
			break
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if string(line) == "]}" {
			closed = true
			break
		}
		cur.data = append(cur.data, bytes.TrimSuffix(line, []byte(","))...)
		cur.ends = append(cur.ends, len(cur.data))
		count++
		if len(cur.data) >= batchBytes {
			send()
		}
	}
	send()
	close(work)
	wg.Wait()
	if !closed {
		if readErr == nil || errors.Is(readErr, io.EOF) {
			return nil, errLayout
		}
		return nil, readErr
	}
	ix.Packages = make([]Entry, 0, count)
	for _, b := range batches {
		if b.err != nil {
			return nil, b.err
		}
		ix.Packages = append(ix.Packages, b.out...)
		b.out = nil
	}
	return ix, nil
}

func (b *lineBatch) decode() {
	b.out = make([]Entry, len(b.ends))
	var f fastEntry
	start := 0
	for i, end := range b.ends {
		ok, err := parseEntry(b.data[start:end], &b.out[i])
		if err != nil {
			b.err = fmt.Errorf("entry %d: %w", b.first+i, err)
			return
		}
		if ok {
			start = end
			continue
		}
		b.out[i] = Entry{}
		f = fastEntry{}
		if err := json.Unmarshal(b.data[start:end], &f); err != nil {
			b.err = fmt.Errorf("entry %d: %w", b.first+i, err)
			return
		}
		if err := f.entry(&b.out[i]); err != nil {
			b.err = fmt.Errorf("entry %d: %w", b.first+i, err)
			return
		}
		start = end
	}
	b.data = nil
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
