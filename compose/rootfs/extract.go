package rootfs

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/deb2fs/deb2fs/store"
)

// WhiteoutPrefix and opaqueWhiteout are the OCI layer whiteout markers.
const (
	WhiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// Extractor applies layers, in order, onto a directory with the semantics
// of an OCI layer applier: a later entry replaces an earlier non-directory
// at the same path, directories merge, whiteouts delete. It never follows a
// symlink out of the root: every parent of an entry must be a real
// directory below the root.
type Extractor struct {
	root string
	dirs map[string]bool // relative paths known to be real directories
	// dirTimes are applied at the end, once nothing is written into the
	// directories any more.
	dirTimes map[string]time.Time
	// Newest is the Newest mtime of a regular file seen: the default
	// SOURCE_DATE_EPOCH.
	Newest time.Time

	// Layer names the Layer being applied (a package); own, when set,
	// follows which package owns each non-directory path and refuses an
	// overwrite that no Replaces allows.
	Layer string
	Own   *Ownership

	// ids maps the layers' owners to the files': the sandbox's ids
	// (sandbox.IDs.Shift), so that its root owns what root owns in the
	// layers.
	ids sandbox.IDs

	// onEntry, when set, sees every entry's root-relative path before it
	// is applied; an error stops the layer.
	onEntry func(rel string) error
	// Only, when set, limits the entries applied to these paths.
	Only map[string]bool
}

// OverlapError is two packages shipping one path when neither declares
// that it replaces the other: dpkg would refuse to unpack the second
// ("trying to overwrite …, which is also in package …").
type OverlapError struct {
	Path          string
	First, Second string
}

func (e *OverlapError) Error() string {
	return fmt.Sprintf("%s and %s both ship /%s and %s does not declare Replaces: %s", e.First, e.Second, e.Path, e.Second, e.First)
}

func NewExtractor(root string, ids sandbox.IDs) *Extractor {
	return &Extractor{root: root, ids: ids, dirs: map[string]bool{".": true}, dirTimes: map[string]time.Time{}}
}

// OpenLayer opens a layer file for reading as a tar stream, unchecked:
// for a layer just written (and tests). Blobs of a store are read through
// openCheckedLayer.
func OpenLayer(p string, mt types.MediaType) (io.ReadCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	rc, err := decompress(f, f, mt)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return rc, nil
}

// decompress reads r, of layer media type mt, as a tar stream; closing it
// closes c.
func decompress(r io.Reader, c io.Closer, mt types.MediaType) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	switch mt {
	case types.OCILayerZStd:
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return readCloser{d.IOReadCloser(), c}, nil
	case types.OCIUncompressedLayer, types.DockerUncompressedLayer:
		return readCloser{io.NopCloser(br), c}, nil
	default:
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		return readCloser{z, c}, nil
	}
}

type readCloser struct {
	io.ReadCloser
	f io.Closer
}

func (r readCloser) Close() error {
	r.ReadCloser.Close()
	return r.f.Close()
}

// LayerReader is a layer blob read as a tar stream while its bytes are
// hashed (blobReader).
type LayerReader struct {
	io.ReadCloser // the tar stream; closing it closes the blob
	blob          *store.BlobReader
}

// OpenCheckedLayer opens the layer blob desc, the file p, as a tar stream;
// what names it in errors. Call end after reading.
func OpenCheckedLayer(p string, desc v1.Descriptor, what string) (*LayerReader, error) {
	b, err := store.OpenBlobFile(p, desc, what)
	if err != nil {
		return nil, err
	}
	rc, err := decompress(b, b, desc.MediaType)
	if err != nil {
		err = (&LayerReader{blob: b}).End(fmt.Errorf("blob %s (%s): %w", desc.Digest, what, err))
		b.Close()
		return nil, err
	}
	return &LayerReader{rc, b}, nil
}

// End reads the rest of the blob once its tar stream was read (err is
// what reading it returned, nil at its end). A blob that does not match
// its digest gives store.ErrBlobDigest, the cause of any decoding error then;
// else end returns err.
func (l *LayerReader) End(err error) error {
	if derr := l.blob.Finish(); derr != nil && (err == nil || errors.Is(derr, store.ErrBlobDigest)) {
		return derr
	}
	return err
}

// Apply extracts one layer blob, checked against its digest: a damaged
// blob fails with store.ErrBlobDigest (what it wrote is the caller's to
// discard).
func (x *Extractor) Apply(blob string, mt types.MediaType, digest v1.Hash) error {
	rc, err := OpenCheckedLayer(blob, v1.Descriptor{MediaType: mt, Digest: digest}, "layer")
	if err != nil {
		return err
	}
	defer rc.Close()
	return rc.Each(fmt.Sprintf("layer %s", digest), func(hdr *tar.Header, r io.Reader) error {
		if err := x.entry(hdr, r); err != nil {
			return fmt.Errorf("layer %s: %s: %w", digest, hdr.Name, err)
		}
		return nil
	})
}

// Each calls fn on every entry of the layer, then ends the read (End):
// an error of fn, or of reading the layer (prefixed "prefix: " unless
// prefix is ""), is returned as End gives it, a damaged blob winning.
func (l *LayerReader) Each(prefix string, fn func(hdr *tar.Header, r io.Reader) error) error {
	tr := tar.NewReader(l)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return l.End(nil)
		}
		if err != nil {
			if prefix != "" {
				err = fmt.Errorf("%s: %w", prefix, err)
			}
			return l.End(err)
		}
		if err := fn(hdr, tr); err != nil {
			return l.End(err)
		}
	}
}

// Clean validates a tar entry name and returns it relative to the root.
func Clean(name string) (string, error) {
	n := path.Clean(strings.TrimPrefix(name, "./"))
	if n == "/" || n == "." {
		return ".", nil
	}
	n = strings.TrimPrefix(n, "/")
	if n == ".." || strings.HasPrefix(n, "../") {
		return "", errors.New("path leaves the root")
	}
	return n, nil
}

// parent makes sure every parent directory of rel exists as a real
// directory (creating missing ones 0755 root), and fails when one is a
// symlink or a file.
func (x *Extractor) parent(rel string) error {
	dir := path.Dir(rel)
	if x.dirs[dir] {
		return nil
	}
	if err := x.parent(dir); err != nil {
		return err
	}
	fi, err := os.Lstat(filepath.Join(x.root, dir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(filepath.Join(x.root, dir), 0o755); err != nil {
			return err
		}
		if err := x.chown(filepath.Join(x.root, dir), 0, 0); err != nil {
			return err
		}
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("parent %s is not a directory", dir)
	}
	x.dirs[dir] = true
	return nil
}

func (x *Extractor) entry(hdr *tar.Header, r io.Reader) error {
	rel, err := Clean(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." || (x.Only != nil && !x.Only[rel]) {
		return nil // the base layer owns the root
	}
	if x.onEntry != nil {
		if err := x.onEntry(rel); err != nil {
			return err
		}
	}
	if err := x.parent(rel); err != nil {
		return err
	}
	base := path.Base(rel)
	if base == opaqueWhiteout {
		return x.clearDir(path.Dir(rel))
	}
	if strings.HasPrefix(base, WhiteoutPrefix) {
		victim := path.Join(path.Dir(rel), strings.TrimPrefix(base, WhiteoutPrefix))
		x.forget(victim)
		return os.RemoveAll(filepath.Join(x.root, victim))
	}
	if hdr.Typeflag != tar.TypeDir && x.Own != nil {
		if err := x.Own.Add(rel, x.Layer); err != nil {
			return err
		}
	}
	abs := filepath.Join(x.root, rel)
	fi, err := os.Lstat(abs)
	exists := err == nil
	if exists && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
		x.forgetDirs(rel)
		if err := os.RemoveAll(abs); err != nil {
			return err
		}
	}
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !exists || !fi.IsDir() {
			if err := os.Mkdir(abs, 0o700); err != nil {
				return err
			}
		}
		x.dirs[rel] = true
		x.dirTimes[rel] = hdr.ModTime
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(abs, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if hdr.ModTime.After(x.Newest) {
			x.Newest = hdr.ModTime
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, abs); err != nil {
			return err
		}
		if err := x.chown(abs, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
		return setTime(abs, hdr.ModTime)
	case tar.TypeLink:
		target, err := Clean(hdr.Linkname)
		if err != nil {
			return err
		}
		// The target must be a regular file reached through real
		// directories: Link does not follow a final symlink, parent checks
		// the directories.
		if err := x.parent(target); err != nil {
			return err
		}
		if tf, err := os.Lstat(filepath.Join(x.root, target)); err != nil || !tf.Mode().IsRegular() {
			return fmt.Errorf("hard link to %s: not a regular file", hdr.Linkname)
		}
		return os.Link(filepath.Join(x.root, target), abs)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		m := mode
		switch hdr.Typeflag {
		case tar.TypeChar:
			m |= unix.S_IFCHR
		case tar.TypeBlock:
			m |= unix.S_IFBLK
		default:
			m |= unix.S_IFIFO
		}
		if err := unix.Mknod(abs, m, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	if err := x.chown(abs, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	// chmod after chown: chown clears the setuid and setgid bits.
	if err := os.Chmod(abs, fs.FileMode(mode&0o777)|modeBits(mode)); err != nil {
		return err
	}
	for k, v := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			if err := unix.Lsetxattr(abs, name, []byte(v), 0); err != nil {
				return fmt.Errorf("xattr %s: %w", name, err)
			}
		}
	}
	if hdr.Typeflag != tar.TypeDir {
		return setTime(abs, hdr.ModTime)
	}
	return nil
}

// chown gives a path the owner of a layer entry, through the id mapping.
func (x *Extractor) chown(abs string, uid, gid int) error {
	if uid < 0 || gid < 0 || (x.ids.Count > 0 && (uid >= x.ids.Count || gid >= x.ids.Count)) {
		return fmt.Errorf("owner %d:%d is outside the sandbox's %d ids", uid, gid, x.ids.Count)
	}
	return os.Lchown(abs, x.ids.Shift(uid), x.ids.Shift(gid))
}

// modeBits converts the setuid, setgid and sticky bits of a Unix mode to
// Go's file mode bits.
func modeBits(mode uint32) fs.FileMode {
	var m fs.FileMode
	if mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// setTime sets a path's atime and mtime without following a symlink.
func setTime(abs string, t time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, abs, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// clearDir removes a directory's contents (an opaque whiteout).
func (x *Extractor) clearDir(rel string) error {
	entries, err := os.ReadDir(filepath.Join(x.root, rel))
	if err != nil {
		return err
	}
	for _, e := range entries {
		x.forget(path.Join(rel, e.Name()))
		if err := os.RemoveAll(filepath.Join(x.root, rel, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// forget drops what the extractor knows about rel (deleted) and below.
func (x *Extractor) forget(rel string) {
	if x.Own != nil {
		x.Own.Forget(rel)
	}
	x.forgetDirs(rel)
}

// forgetDirs drops the directories known at and below rel (about to be
// replaced by another entry, whose ownership stays recorded).
func (x *Extractor) forgetDirs(rel string) {
	delete(x.dirs, rel)
	delete(x.dirTimes, rel)
	prefix := rel + "/"
	for d := range x.dirs {
		if strings.HasPrefix(d, prefix) {
			delete(x.dirs, d)
			delete(x.dirTimes, d)
		}
	}
}

// Finish applies the directories' mtimes.
func (x *Extractor) Finish() error {
	for rel, t := range x.dirTimes {
		if err := setTime(filepath.Join(x.root, rel), t); err != nil {
			return err
		}
	}
	return nil
}
