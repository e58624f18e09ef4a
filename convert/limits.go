package convert

import (
	"fmt"
	"io"
)

// DefaultMaxExpandedSize is the default cap on a package's decompressed
// data.tar (Options.MaxExpandedSize). The largest bookworm packages
// expand to a few GB; 16 GiB leaves room for any real package and stops a
// decompression bomb long before it fills a disk.
const DefaultMaxExpandedSize int64 = 16 << 30

// maxControlExpanded caps the decompressed control.tar, which is held in
// memory. dpkg sets no limit; the largest control members seen are
// md5sums of packages with tens of thousands of files, a few MB (5 MB for
// the biggest on this project's hosts).
const maxControlExpanded = 64 << 20

// maxControlMember caps one control member.
const maxControlMember = 16 << 20

// TooLargeError is the error (errors.As) of a conversion refused because
// a member expands beyond its cap.
type TooLargeError struct {
	Limit int64  // bytes
	What  string // which limit: "for a control archive", ...
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("expands to more than %d bytes, the limit %s", e.Limit, e.What)
}

// capReader passes r through until more than limit bytes come out of it;
// then it fails with an error naming the limit: the guard against
// decompression bombs, applied to what the decompressor produces.
type capReader struct {
	r     io.Reader
	left  int64
	limit int64
	what  string // whose limit it is, for the message
}

func newCapReader(r io.Reader, limit int64, what string) *capReader {
	return &capReader{r: r, left: limit, limit: limit, what: what}
}

func (c *capReader) Read(p []byte) (int, error) {
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1] // one byte past the limit tells "at the limit" from "over it"
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		n, c.left = int(c.left), 0
		return n, &TooLargeError{Limit: c.limit, What: c.what}
	}
	c.left -= int64(n)
	return n, err
}
