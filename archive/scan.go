package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// lineKind is what [stanzaScanner.next] found.
type lineKind int

const (
	lineField lineKind = iota // "Key: value"
	lineCont                  // " continuation"
	lineEnd                   // blank line after a stanza, or EOF after one
	lineEOF                   // end of input
)

// stanzaScanner reads deb822 text (Packages, Release) line by line without
// building paragraphs: the caller keeps what it wants and skips the rest.
// The slices it returns are valid until the next call.
type stanzaScanner struct {
	r       *bufio.Reader
	long    []byte // a line longer than the bufio buffer
	line    int    // number of the line last returned
	inBlock bool   // a field has been seen since the last blank line
	err     error
}

func newStanzaScanner(r io.Reader) *stanzaScanner {
	return &stanzaScanner{r: bufio.NewReaderSize(r, 256<<10)}
}

// readLine returns the next line without its line ending, or io.EOF.
func (s *stanzaScanner) readLine() ([]byte, error) {
	b, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = s.r.ReadSlice('\n')
			s.long = append(s.long, b...)
		}
		b = s.long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(b) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	s.line++
	b = bytes.TrimRight(b, "\r\n")
	return b, nil
}

// next returns the next line's kind; for lineField the key and value
// (trimmed), for lineCont the trimmed continuation text in value.
func (s *stanzaScanner) next() (kind lineKind, key, value []byte) {
	for {
		b, err := s.readLine()
		if err != nil {
			if err != io.EOF {
				s.err = err
			}
			if s.inBlock {
				s.inBlock = false
				return lineEnd, nil, nil
			}
			return lineEOF, nil, nil
		}
		if len(bytes.TrimSpace(b)) == 0 {
			if s.inBlock {
				s.inBlock = false
				return lineEnd, nil, nil
			}
			continue
		}
		if b[0] == ' ' || b[0] == '\t' {
			if !s.inBlock {
				s.err = fmt.Errorf("line %d: continuation line outside a field", s.line)
				return lineEOF, nil, nil
			}
			return lineCont, nil, bytes.TrimSpace(b)
		}
		if b[0] == '#' { // comments are allowed in deb822 files
			continue
		}
		i := bytes.IndexByte(b, ':')
		if i <= 0 {
			s.err = fmt.Errorf("line %d: not a field: %.40q", s.line, b)
			return lineEOF, nil, nil
		}
		s.inBlock = true
		return lineField, b[:i], bytes.TrimSpace(b[i+1:])
	}
}

// lowerKey lower-cases an ASCII field name into buf (deb822 field names are
// case-insensitive) and returns it.
func lowerKey(buf *[64]byte, k []byte) []byte {
	if len(k) > len(buf) {
		return k
	}
	for i, c := range k {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(k)]
}

// atoi parses a non-negative decimal integer.
func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
