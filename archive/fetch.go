package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// Fetch downloads p's .deb to dest, verifying its size and SHA256 against
// p while streaming. It writes a temporary file next to dest, syncs it and
// renames it into place, so dest is either absent or complete and verified;
// on any failure no file is left. Transient network failures are retried.
// Fetch is safe to call concurrently (for different dest paths).
func (c *Client) Fetch(ctx context.Context, p *Package, dest string) error {
	url := p.URL()
	switch {
	case url == "":
		return fmt.Errorf("fetch %s: package has no Release (not from a verified index)", p.ID())
	case p.Filename == "" || !isHex(p.SHA256, 64):
		return fmt.Errorf("fetch %s: stanza lacks Filename or SHA256", p.ID())
	}
	if err := checkFilename(p.Filename); err != nil {
		return fmt.Errorf("fetch: %w", filenameError(p, err))
	}
	return c.retry(ctx, func() error { return c.fetchOnce(ctx, p, url, dest) })
}

func (c *Client) fetchOnce(ctx context.Context, p *Package, url, dest string) (err error) {
	body, n, err := c.get(ctx, url)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", p.ID(), err)
	}
	defer body.Close()
	mismatch := func(prop, want, got string) error {
		return &MismatchError{What: p.ID(), URL: url, Property: prop, Want: want, Got: got}
	}
	if n >= 0 && n != p.Size {
		return mismatch("size", strconv.FormatInt(p.Size, 10), strconv.FormatInt(n, 10)+" (Content-Length)")
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.part")
	if err != nil {
		return fmt.Errorf("fetch %s: %w", p.ID(), err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	// Read one byte more than promised, to catch an overlong body.
	got, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, p.Size+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("fetch %s: truncated after %d of %d bytes: %w", p.ID(), got, p.Size, err)
		}
		return fmt.Errorf("fetch %s: %w", p.ID(), err)
	}
	if got != p.Size {
		g := strconv.FormatInt(got, 10)
		if got > p.Size {
			g = "more than " + strconv.FormatInt(p.Size, 10)
		} else {
			g += " (truncated)"
		}
		return mismatch("size", strconv.FormatInt(p.Size, 10), g)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != p.SHA256 {
		return mismatch("sha256", p.SHA256, sum)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("fetch %s: %w", p.ID(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("fetch %s: %w", p.ID(), err)
	}
	if err = os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("fetch %s: %w", p.ID(), err)
	}
	return nil
}
