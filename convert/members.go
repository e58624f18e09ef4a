package convert

import (
	"archive/tar"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/deb2fs/deb2fs/dpkg"
)

// readMembers walks the ar members in the order dpkg-deb requires:
// debian-binary, control.tar[.ext], data.tar[.ext]; members whose names
// start with "_" are ignored, as by dpkg-deb.
func (c *converter) readMembers(ar *arReader) error {
	m, err := ar.Next()
	if err != nil {
		if err == io.EOF {
			return errors.New("empty ar archive: not a Debian package")
		}
		return err
	}
	if m.Name != "debian-binary" {
		return fmt.Errorf("first ar member is %q, not debian-binary: not a Debian package", m.Name)
	}
	vb, err := io.ReadAll(io.LimitReader(ar, 64))
	if err != nil {
		return fmt.Errorf("debian-binary: %w", err)
	}
	if v := strings.TrimSpace(string(vb)); !strings.HasPrefix(v, "2.") {
		return fmt.Errorf("debian-binary: unsupported package format version %q (want 2.x)", v)
	}
	haveControl := false
	for {
		m, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(m.Name, "_"):
			continue
		case m.Name == "control.tar" || strings.HasPrefix(m.Name, "control.tar."):
			if haveControl {
				return fmt.Errorf("second control member %s", m.Name)
			}
			if err := c.readControl(ar, m.Name); err != nil {
				return fmt.Errorf("%s: %w", m.Name, ar.cause(err))
			}
			haveControl = true
		case m.Name == "data.tar" || strings.HasPrefix(m.Name, "data.tar."):
			if !haveControl {
				return fmt.Errorf("member %s comes before the control member", m.Name)
			}
			if c.controlOnly {
				return nil
			}
			if err := c.readData(ar, m.Name); err != nil {
				return fmt.Errorf("%s: %w", m.Name, ar.cause(err))
			}
			c.haveData = true
			return nil
		default:
			return fmt.Errorf("unexpected ar member %q", m.Name)
		}
	}
	if !haveControl {
		return errors.New("no control.tar member")
	}
	return errors.New("no data.tar member")
}

func (c *converter) readControl(r io.Reader, member string) error {
	ext, err := compressionOf(member, "control.tar")
	if err != nil {
		return err
	}
	// control.tar is small: decode it in-process, whatever the data decoder.
	dec, err := decompress(c.ctx, ext, r, XZGo)
	if err != nil {
		return err
	}
	defer dec.Close()
	// The whole decompressed stream is capped, tar headers and whatever
	// follows the end-of-archive blocks included: it is read to its end.
	capped := newCapReader(dec, maxControlExpanded, "for a control archive")
	tr := tar.NewReader(capped)
	var control *controlFile
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return err
		}
		if h.Typeflag == tar.TypeDir && name == "" {
			continue
		}
		if h.Typeflag != tar.TypeReg || strings.Contains(name, "/") {
			return fmt.Errorf("%q: unexpected entry in the control archive", h.Name)
		}
		if h.Size > maxControlMember {
			return fmt.Errorf("%q: control member too large (%d bytes, the limit is %d)", h.Name, h.Size, maxControlMember)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("%q: %w", h.Name, err)
		}
		f := controlFile{name: name, data: data, mode: h.Mode & 07777, mtime: h.ModTime.Truncate(1e9).UTC()}
		if name == "control" {
			control = &f
			continue
		}
		c.ctlFiles = append(c.ctlFiles, f)
	}
	// The decompressor must reach the end of its stream: a truncated
	// control.tar.xz is an error even when the tar looks complete.
	if _, err := io.Copy(io.Discard, capped); err != nil {
		return err
	}
	if err := dec.Close(); err != nil {
		return err
	}
	if control == nil {
		return errors.New("no control file")
	}
	if c.control, err = dpkg.ParseParagraph(control.data); err != nil {
		return err
	}
	// The name, version and architecture become paths and tags: dpkg's
	// rules (docs/layer-format.md, "What convert refuses").
	if err := dpkg.CheckControl(c.control); err != nil {
		return fmt.Errorf("control: %w", err)
	}
	c.ctlMTime = control.mtime
	sort.Slice(c.ctlFiles, func(i, j int) bool { return c.ctlFiles[i].name < c.ctlFiles[j].name })
	for _, f := range c.ctlFiles {
		switch f.name {
		case "md5sums":
			c.hasMD5 = true
		case "conffiles":
			if c.conffiles, err = parseConffiles(f.data); err != nil {
				return err
			}
		}
	}
	c.confMD5 = map[string]string{}
	return nil
}

func (c *converter) isConffile(p string) bool {
	for _, cf := range c.conffiles {
		if cf.path == p {
			return true
		}
	}
	return false
}

// readData streams data.tar into the layer.
func (c *converter) readData(r io.Reader, member string) error {
	ext, err := compressionOf(member, "data.tar")
	if err != nil {
		return err
	}
	dec, err := decompress(c.ctx, ext, r, c.opts.XZ)
	if err != nil {
		return err
	}
	defer dec.Close()
	limit := c.opts.MaxExpandedSize
	if limit <= 0 {
		limit = DefaultMaxExpandedSize
	}
	capped := newCapReader(dec, limit, "on a package's expanded data (--max-expanded-size)")
	tr := tar.NewReader(capped)
	c.emitted = map[string]byte{}
	for {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := c.dataEntry(tr, h); err != nil {
			return fmt.Errorf("%q: %w", h.Name, err)
		}
	}
	if _, err := io.Copy(io.Discard, capped); err != nil {
		return err
	}
	return dec.Close()
}

// dataEntry rewrites one data.tar entry into the layer and records it in
// the file list.
func (c *converter) dataEntry(tr *tar.Reader, h *tar.Header) error {
	name, err := cleanName(h.Name)
	if err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return fmt.Errorf("unsupported tar entry type %q", h.Typeflag)
	}
	if name == "" {
		if h.Typeflag != tar.TypeDir {
			return errors.New("the root is not a directory")
		}
		c.list = append(c.list, "/.")
		return nil // the base layer owns the root directory
	}
	if h.Typeflag == tar.TypeSymlink {
		c.links = append(c.links, "/"+name)
	} else {
		c.list = append(c.list, "/"+name)
	}
	merged := mergedPath(name)
	if isMergedDir(name) && h.Typeflag == tar.TypeSymlink {
		// A package shipping the merged-/usr link itself (bin -> usr/bin):
		// the base layer provides it.
		if t := strings.TrimSuffix(path.Clean(strings.TrimPrefix(h.Linkname, "/")), "/"); t == "usr/"+name {
			return nil
		}
		return fmt.Errorf("symlink %s -> %s would replace the merged-/usr directory", name, h.Linkname)
	}
	if err := c.checkParents(merged); err != nil {
		return err
	}
	if prev, ok := c.emitted[merged]; ok {
		if prev == tar.TypeDir && h.Typeflag == tar.TypeDir {
			return nil // e.g. ./lib64/ and ./usr/lib64/ in one package
		}
		return fmt.Errorf("path collides with another entry at /%s after the merged-/usr rewrite", merged)
	}
	out := &tar.Header{
		Typeflag: h.Typeflag,
		Name:     merged,
		Mode:     h.Mode & 07777,
		Uid:      h.Uid,
		Gid:      h.Gid,
		Uname:    h.Uname,
		Gname:    h.Gname,
		ModTime:  h.ModTime.Truncate(1e9).UTC(),
		Devmajor: h.Devmajor,
		Devminor: h.Devminor,
		Format:   tar.FormatPAX,
	}
	switch h.Typeflag {
	case tar.TypeDir:
		out.Name += "/"
		out.ModTime = epoch
	case tar.TypeReg:
		out.Size = h.Size
	case tar.TypeSymlink:
		out.Linkname = rewriteSymlink(name, merged, h.Linkname)
	case tar.TypeLink:
		target, err := cleanName(h.Linkname)
		if err != nil || target == "" {
			return fmt.Errorf("hard link to %q outside the package", h.Linkname)
		}
		target = mergedPath(target)
		if c.emitted[target] != tar.TypeReg {
			return fmt.Errorf("hard link to %q, which is not a regular file earlier in the package", h.Linkname)
		}
		out.Linkname = target
	}
	if err := c.out.WriteHeader(out); err != nil {
		return err
	}
	c.emitted[merged] = h.Typeflag
	if h.Typeflag != tar.TypeReg {
		return nil
	}
	wantMD5 := !c.hasMD5 || c.isConffile("/"+name)
	if !wantMD5 {
		_, err = io.Copy(c.out.Writer, tr)
		return err
	}
	sum := md5.New()
	if _, err := io.Copy(io.MultiWriter(c.out.Writer, sum), tr); err != nil {
		return err
	}
	hexsum := hex.EncodeToString(sum.Sum(nil))
	if c.isConffile("/" + name) {
		c.confMD5["/"+name] = hexsum
	}
	if !c.hasMD5 {
		c.md5sums = append(c.md5sums, hexsum+"  "+name)
	}
	return nil
}

// checkParents refuses an entry below a path that this package made a
// symlink or a file: writing through a symlink is how a hostile package
// escapes the root (./x -> /etc, then ./x/passwd).
func (c *converter) checkParents(p string) error {
	for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
		switch t, ok := c.emitted[dir]; {
		case !ok || t == tar.TypeDir:
		case t == tar.TypeSymlink:
			return fmt.Errorf("written through the symlink /%s", dir)
		default:
			return fmt.Errorf("written below /%s, which is not a directory", dir)
		}
	}
	return nil
}
