package convert

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// XZDecoder selects how xz members are decompressed.
type XZDecoder string

const (
	// XZAuto uses XZExec when an xz binary is on PATH, XZGo otherwise.
	XZAuto XZDecoder = ""
	// XZGo decodes in-process with github.com/ulikunitz/xz (pure Go).
	XZGo XZDecoder = "go"
	// XZExec pipes the member through `xz -dc` (liblzma, about twice as
	// fast as the pure-Go decoder; see docs/dependencies.md).
	XZExec XZDecoder = "exec"
)

var (
	xzPathOnce sync.Once
	xzPath     string
)

func resolveXZ(d XZDecoder) XZDecoder {
	xzPathOnce.Do(func() { xzPath, _ = exec.LookPath("xz") })
	if d == XZAuto && xzPath != "" {
		return XZExec
	}
	if d == XZAuto {
		return XZGo
	}
	return d
}

// compressionOf returns the compression suffix of a member such as
// "data.tar.xz" ("" for a plain tar), or an error for a name dpkg-deb would
// not accept.
func compressionOf(member, base string) (string, error) {
	if member == base {
		return "", nil
	}
	ext := strings.TrimPrefix(member, base+".")
	switch ext {
	case "xz", "zst", "gz", "bz2", "lzma":
		return ext, nil
	}
	return "", fmt.Errorf("member %s: unknown compression %q", member, ext)
}

// decompress returns a reader of the decompressed member. Close releases
// the decoder and, for an external xz, reports its exit status: a truncated
// or corrupt stream is an error from Read or from Close.
func decompress(ctx context.Context, ext string, r io.Reader, xzd XZDecoder) (io.ReadCloser, error) {
	switch ext {
	case "":
		return io.NopCloser(r), nil
	case "gz":
		z, err := gzip.NewReader(bufio.NewReaderSize(r, 64<<10))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return z, nil
	case "bz2":
		return io.NopCloser(bzip2.NewReader(bufio.NewReaderSize(r, 64<<10))), nil
	case "zst":
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zstdCloser{z}, nil
	case "lzma":
		z, err := lzma.NewReader(bufio.NewReaderSize(r, 64<<10))
		if err != nil {
			return nil, fmt.Errorf("lzma: %w", err)
		}
		return io.NopCloser(z), nil
	case "xz":
		if resolveXZ(xzd) == XZExec {
			return execXZ(ctx, r)
		}
		// ulikunitz/xz makes one read per byte of input: it must be
		// buffered (research/golibs.md §3).
		z, err := xz.NewReader(bufio.NewReaderSize(r, 256<<10))
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		return io.NopCloser(z), nil
	}
	return nil, fmt.Errorf("unknown compression %q", ext)
}

type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

// execXZ streams r through `xz -dc`. The memory limit keeps a hostile
// header from making xz allocate without bound; Debian's debs use 8 MiB
// dictionaries.
func execXZ(ctx context.Context, r io.Reader) (io.ReadCloser, error) {
	if xzPath == "" {
		return nil, errors.New("xz: no xz program on PATH (install xz-utils, or use the pure-Go decoder)")
	}
	cmd := exec.CommandContext(ctx, xzPath, "-dc", "-T1", "-q", "--memlimit-decompress=512MiB")
	cmd.Args[0] = "xz" // for its messages
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	return &xzProcess{cmd: cmd, out: out, stderr: &stderr}, nil
}

type xzProcess struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *bytes.Buffer
	done   bool
	err    error
}

func (p *xzProcess) Read(b []byte) (int, error) {
	n, err := p.out.Read(b)
	if err == io.EOF {
		// xz reports corrupt or truncated input only through its exit
		// status: surface it here rather than as a clean end of stream.
		if werr := p.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (p *xzProcess) wait() error {
	if !p.done {
		p.done = true
		if err := p.cmd.Wait(); err != nil {
			msg := strings.TrimSpace(strings.TrimPrefix(p.stderr.String(), "xz: "))
			msg = strings.TrimPrefix(msg, "(stdin): ")
			if msg == "" {
				msg = err.Error()
			}
			p.err = errors.New("xz: " + msg)
		}
	}
	return p.err
}

// Close stops xz if the stream was not read to its end and reports how it
// ended.
func (p *xzProcess) Close() error {
	if !p.done {
		p.out.Close()
		if p.cmd.Process != nil {
			p.cmd.Process.Kill()
		}
		p.wait()
		return nil
	}
	return p.err
}
