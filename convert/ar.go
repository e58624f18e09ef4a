package convert

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// arReader reads the members of an ar archive as dpkg-deb writes them
// (System V/GNU common format, names of at most 16 bytes), from a stream.
// It checks the magic, every header's terminator and numeric fields, so a
// corrupt or hostile file gives an error rather than garbage or a panic
// (see docs/dependencies.md for why this is not github.com/blakesmith/ar).
type arReader struct {
	r      *bufio.Reader
	remain int64 // bytes left in the current member
	pad    bool  // current member is followed by one padding byte
	offset int64 // offset of the next unread byte, for error messages
	err    error // set when the archive ended inside a member
}

type arMember struct {
	Name string
	Size int64
}

const arMagic = "!<arch>\n"

func newArReader(r io.Reader) (*arReader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic := make([]byte, len(arMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != arMagic {
		return nil, fmt.Errorf("not a Debian package: no ar archive magic")
	}
	return &arReader{r: br, offset: int64(len(arMagic))}, nil
}

// Next skips what is left of the current member and returns the next
// member's header, or io.EOF at the end of the archive.
func (a *arReader) Next() (arMember, error) {
	if a.remain > 0 {
		if _, err := io.CopyN(io.Discard, a.r, a.remain); err != nil {
			return arMember{}, fmt.Errorf("ar archive truncated at offset %d", a.offset)
		}
		a.offset += a.remain
		a.remain = 0
	}
	if a.pad {
		if _, err := a.r.ReadByte(); err != nil {
			return arMember{}, io.EOF // a missing final pad byte is tolerated, as by dpkg-deb
		}
		a.offset++
		a.pad = false
	}
	var hdr [60]byte
	n, err := io.ReadFull(a.r, hdr[:])
	if err == io.EOF {
		return arMember{}, io.EOF
	}
	if err != nil {
		return arMember{}, fmt.Errorf("ar archive truncated in the member header at offset %d (%d of 60 bytes)", a.offset, n)
	}
	if hdr[58] != '`' || hdr[59] != '\n' {
		return arMember{}, fmt.Errorf("corrupt ar member header at offset %d (bad terminator)", a.offset)
	}
	name := strings.TrimRight(string(bytes.TrimRight(hdr[0:16], " ")), "/")
	sizeField := strings.TrimSpace(string(hdr[48:58]))
	size, err := strconv.ParseInt(sizeField, 10, 64)
	if err != nil || size < 0 {
		return arMember{}, fmt.Errorf("corrupt ar member header at offset %d (size %q)", a.offset, sizeField)
	}
	if name == "" {
		return arMember{}, fmt.Errorf("corrupt ar member header at offset %d (empty name)", a.offset)
	}
	a.offset += 60
	a.remain = size
	a.pad = size%2 == 1
	return arMember{Name: name, Size: size}, nil
}

// Read reads from the current member; it returns io.ErrUnexpectedEOF when
// the archive ends before the member does.
func (a *arReader) Read(p []byte) (int, error) {
	if a.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > a.remain {
		p = p[:a.remain]
	}
	n, err := a.r.Read(p)
	a.remain -= int64(n)
	a.offset += int64(n)
	if err == io.EOF && a.remain > 0 {
		err = io.ErrUnexpectedEOF
		a.err = fmt.Errorf("file truncated: the ar archive ends %d bytes before the end of its member (offset %d)", a.remain, a.offset)
	}
	return n, err
}

// drain reads the rest of the archive, so that a hash of the input covers
// every byte.
func (a *arReader) drain() error {
	for {
		if _, err := a.Next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// cause returns the truncation of the archive, when there was one, in place
// of the error it caused downstream (a decompressor's "unexpected EOF").
func (a *arReader) cause(err error) error {
	if a.err != nil {
		return a.err
	}
	return err
}
