package archive

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Index is a verified Packages index of one component and architecture of
// a Release.
type Index struct {
	Release   *Release
	Component string
	Arch      string
	// URL is where the (compressed) index was downloaded from.
	URL      string
	Packages []Package
}

// Packages fetches COMPONENT/binary-ARCH/Packages of rel, verifies its size
// and SHA256 against rel before parsing it, and parses it. It tries the
// compressions the Release lists in the client's order (see
// [WithCompressions]); with Acquire-By-Hash it asks for by-hash/SHA256/HASH
// first and falls back to the plain name. When the Release also lists the
// uncompressed file, the decompressed text is checked against that too.
// Every returned Package points back to rel.
func (c *Client) Packages(ctx context.Context, rel *Release, component, arch string) (*Index, error) {
	dir := component + "/binary-" + arch + "/"
	base := rel.URI + "/dists/" + rel.Dist + "/"
	plain, hasPlain := rel.Files[dir+"Packages"]
	listed := false
	var tried []string
	for _, ext := range c.compressions {
		fh, ok := rel.Files[dir+"Packages"+ext]
		if !ok {
			continue
		}
		listed = true
		urls := []string{base + dir + "Packages" + ext}
		if rel.AcquireByHash {
			urls = append([]string{base + dir + "by-hash/SHA256/" + fh.SHA256}, urls...)
		}
		for _, url := range urls {
			data, err := c.fetchBytes(ctx, url, fh.Size)
			if errors.Is(err, ErrNotFound) {
				tried = append(tried, url)
				continue
			}
			if err != nil {
				return nil, err
			}
			what := fmt.Sprintf("Packages%s of %s %s/%s", ext, rel.Dist, component, arch)
			if err := checkBytes(what, url, data, fh); err != nil {
				return nil, err
			}
			var want *FileHash
			if hasPlain && ext != "" {
				want = &plain
			}
			pkgs, err := parseIndex(data, ext, want)
			if err != nil {
				return nil, fmt.Errorf("%s (%s): %w", what, url, err)
			}
			for i := range pkgs {
				pkgs[i].Release = rel
			}
			return &Index{Release: rel, Component: component, Arch: arch, URL: url, Packages: pkgs}, nil
		}
	}
	if !listed {
		return nil, fmt.Errorf("%s lists no %sPackages (compressions tried: %q)", rel.URL, dir, c.compressions)
	}
	return nil, fmt.Errorf("%s %s/%s: Packages %w at %s", rel.Dist, component, arch, ErrNotFound, strings.Join(tried, ", "))
}

// checkBytes verifies data against its Release entry.
func checkBytes(what, url string, data []byte, fh FileHash) error {
	if int64(len(data)) != fh.Size {
		return &MismatchError{What: what, URL: url, Property: "size", Want: strconv.FormatInt(fh.Size, 10), Got: strconv.Itoa(len(data))}
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != fh.SHA256 {
		return &MismatchError{What: what, URL: url, Property: "sha256", Want: fh.SHA256, Got: got}
	}
	return nil
}

// decompressor returns a reader of the decompressed data.
func decompressor(data []byte, ext string) (io.ReadCloser, error) {
	r := bytes.NewReader(data)
	switch ext {
	case "":
		return io.NopCloser(r), nil
	case ".gz":
		return gzip.NewReader(r)
	case ".xz":
		x, err := xz.NewReader(bufio.NewReaderSize(r, 64<<10))
		return io.NopCloser(x), err
	case ".bz2":
		return io.NopCloser(bzip2.NewReader(r)), nil
	case ".zst":
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown compression %q", ext)
}

// parseIndex decompresses and parses a verified index; if want is set, the
// decompressed bytes must match it. Decompression runs in its own goroutine
// so that it overlaps with parsing.
func parseIndex(data []byte, ext string, want *FileHash) ([]Package, error) {
	dec, err := decompressor(data, ext)
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	// A stanza is about 790 bytes of text; text compresses about 4x (gzip)
	// to 6x (xz). A close hint saves regrowing a 20 MB slice.
	ratio := map[string]int{"": 1, ".gz": 4, ".bz2": 5}[ext]
	if ratio == 0 {
		ratio = 6
	}
	hint := len(data) * ratio / 790
	if want != nil {
		hint = int(want.Size / 780)
	}
	pr, pw := io.Pipe()
	h := sha256.New()
	counted := &countingHash{h: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := io.CopyBuffer(io.MultiWriter(counted, pw), dec, make([]byte, 256<<10))
		pw.CloseWithError(err)
	}()
	pkgs, err := readPackages(pr, hint)
	pr.CloseWithError(errors.New("parser stopped"))
	<-done
	if err != nil {
		return nil, err
	}
	if want != nil {
		if counted.n != want.Size {
			return nil, verifyErrorf("decompressed size mismatch: expected %d, got %d", want.Size, counted.n)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
			return nil, verifyErrorf("decompressed sha256 mismatch: expected %s, got %s", want.SHA256, got)
		}
	}
	return pkgs, nil
}

type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}
