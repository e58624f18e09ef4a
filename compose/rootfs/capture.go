package rootfs

import (
	"archive/tar"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/deb2fs/deb2fs/sandbox"
)

// FileState is what a snapshot keeps of one path: enough to tell that it
// was replaced (inode), rewritten or re-owned (ctime changes on every write,
// chmod, chown and link count change) without reading file contents.
type FileState struct {
	ino   uint64
	ctime syscall.Timespec
	mode  uint32
	uid   uint32
	gid   uint32
}

// Snapshot records the state of every path under root (relative, "/"
// separated), skipping the mount points' contents.
func Snapshot(root string) (map[string]FileState, error) {
	snap := make(map[string]FileState, 1<<14)
	err := Walk(root, func(rel string, st *syscall.Stat_t) {
		snap[rel] = FileState{ino: st.Ino, ctime: st.Ctim, mode: st.Mode, uid: st.Uid, gid: st.Gid}
	})
	return snap, err
}

// keptRuntimeDirs are directories under a volatile tree that an image
// keeps (empty), as mmdebstrap's root keeps them: base-files' postinst
// makes /run/lock (1777) and /var/lock points at it; a container runtime
// does not recreate it, and apache2 and others need it.
var keptRuntimeDirs = map[string]bool{"run/lock": true}

// volatile reports whether rel lies where nothing is captured: the mount
// points of the sandbox and the scratch directories whose contents do not
// belong in an image (a kept runtime directory itself is captured, not
// what it holds).
func volatile(rel string) bool {
	if keptRuntimeDirs[rel] {
		return false
	}
	for _, d := range []string{"dev", "proc", "sys", "tmp", "run", "var/tmp"} {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// Walk calls fn for every path under root except root itself, in
// lexical order, parents before children.
func Walk(root string, fn func(rel string, st *syscall.Stat_t)) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel := p[len(root)+1:]
		if volatile(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		fn(rel, &st)
		return nil
	})
}

// Change is one entry of the configure layer.
type Change struct {
	Rel      string
	Whiteout bool
	Stat     syscall.Stat_t
}

// Diff compares the configured root with the snapshot of the union of the
// layers: new and changed paths, their parent directories, and whiteouts
// for deleted paths (one for a deleted directory, not its contents).
func Diff(root string, before map[string]FileState) ([]Change, error) {
	var out []Change
	seen := make(map[string]bool, len(before))
	emitted := map[string]bool{}
	var emitParents func(rel string) error
	emitParents = func(rel string) error {
		dir := path.Dir(rel)
		if dir == "." || emitted[dir] {
			return nil
		}
		if err := emitParents(dir); err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(root, dir), &st); err != nil {
			return err
		}
		emitted[dir] = true
		out = append(out, Change{Rel: dir, Stat: st})
		return nil
	}
	var replaced []string // directories that became something else
	err := Walk(root, func(rel string, st *syscall.Stat_t) {
		seen[rel] = true
		old, ok := before[rel]
		isDir := st.Mode&syscall.S_IFMT == syscall.S_IFDIR
		if ok && old.mode&syscall.S_IFMT == syscall.S_IFDIR && !isDir {
			replaced = append(replaced, rel)
		}
		if ok && old.ino == st.Ino && old.mode == st.Mode && old.uid == st.Uid && old.gid == st.Gid {
			if isDir || old.ctime == st.Ctim {
				return // unchanged (a directory only counts when its own metadata changed)
			}
		}
		out = append(out, Change{Rel: rel, Stat: *st})
	})
	if err != nil {
		return nil, err
	}
	// Parents of every change, so that appliers never create a directory
	// with made-up metadata.
	changes := out
	out = nil
	for _, c := range changes {
		if err := emitParents(c.Rel); err != nil {
			return nil, err
		}
		if !emitted[c.Rel] {
			emitted[c.Rel] = true
			out = append(out, c)
		}
	}
	// Deleted paths: a whiteout for the topmost deleted one. A directory
	// replaced by a file or a symlink gets one too, next to its new entry
	// (a whiteout applies to the lower layers only), so that no applier
	// has to guess, and its former contents get none of their own: a
	// whiteout below a symlink could reach outside the directory.
	gone := replaced
	for rel := range before {
		if !seen[rel] && !volatile(rel) {
			gone = append(gone, rel)
		}
	}
	sort.Strings(gone)
	var lastGone string
	for _, rel := range gone {
		if lastGone != "" && strings.HasPrefix(rel, lastGone+"/") {
			continue
		}
		lastGone = rel
		if err := emitParents(rel); err != nil {
			return nil, err
		}
		out = append(out, Change{Rel: path.Join(path.Dir(rel), WhiteoutPrefix+path.Base(rel)), Whiteout: true})
	}
	sort.Slice(out, func(i, j int) bool { return PathLess(out[i].Rel, out[j].Rel) })
	return out, nil
}

// PathLess orders paths so that a directory comes right before its
// contents: component by component.
func PathLess(a, b string) bool {
	return strings.ReplaceAll(a, "/", "\x00") < strings.ReplaceAll(b, "/", "\x00")
}

// WriteChanges writes the configure layer: every change with its content
// and metadata, mtimes clamped to sde, hard links within the layer kept,
// owners mapped back from the sandbox's ids (imageOwner).
func WriteChanges(w io.Writer, root string, changes []Change, sde time.Time, ids sandbox.IDs) (v1.Descriptor, v1.Hash, error) {
	lw := NewLayerWriter(w)
	links := map[uint64]string{} // inode -> first path written
	for _, c := range changes {
		hdr := &tar.Header{Name: c.Rel, ModTime: sde, Format: tar.FormatPAX}
		if c.Whiteout {
			hdr.Typeflag, hdr.Mode = tar.TypeReg, 0o644
			if err := lw.WriteHeader(hdr); err != nil {
				return v1.Descriptor{}, v1.Hash{}, err
			}
			continue
		}
		st := c.Stat
		abs := filepath.Join(root, c.Rel)
		mt := time.Unix(st.Mtim.Sec, 0)
		if mt.Before(sde) {
			hdr.ModTime = mt
		}
		uid, err := ImageOwner(ids, st.Uid)
		if err != nil {
			return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("/%s: %w", c.Rel, err)
		}
		gid, err := ImageOwner(ids, st.Gid)
		if err != nil {
			return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("/%s: %w", c.Rel, err)
		}
		hdr.Uid, hdr.Gid = uid, gid
		hdr.Mode = int64(st.Mode & 0o7777)
		var content *os.File
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFDIR:
			hdr.Typeflag, hdr.Name = tar.TypeDir, c.Rel+"/"
		case syscall.S_IFREG:
			if first, ok := links[st.Ino]; ok && st.Nlink > 1 {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				break
			}
			if st.Nlink > 1 {
				links[st.Ino] = c.Rel
			}
			f, err := os.Open(abs)
			if err != nil {
				return v1.Descriptor{}, v1.Hash{}, err
			}
			content = f
			hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		case syscall.S_IFLNK:
			target, err := os.Readlink(abs)
			if err != nil {
				return v1.Descriptor{}, v1.Hash{}, err
			}
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, target, 0o777
		case syscall.S_IFCHR, syscall.S_IFBLK:
			// The sandbox cannot make device nodes; a layer may ship
			// them, configuring may not add or change one.
			return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("/%s: configuring made a device node: refused", c.Rel)
		case syscall.S_IFIFO:
			hdr.Typeflag = tar.TypeFifo
		default:
			continue // sockets do not belong in a layer
		}
		if cap, err := getxattr(abs, "security.capability"); err == nil && len(cap) > 0 && hdr.Typeflag == tar.TypeReg {
			hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string(imageCaps(cap, ids))}
		}
		if err := lw.WriteHeader(hdr); err != nil {
			return v1.Descriptor{}, v1.Hash{}, err
		}
		if content != nil {
			_, err := io.Copy(lw, content)
			content.Close()
			if err != nil {
				return v1.Descriptor{}, v1.Hash{}, err
			}
		}
	}
	return lw.Close()
}

// ImageOwner maps an owner of the configured root back into the image: a
// sandbox id to itself, and root of the caller (files compose wrote
// itself: the status file, firstboot's) to root. Nothing else can own a
// file there.
func ImageOwner(ids sandbox.IDs, id uint32) (int, error) {
	if id == 0 {
		return 0, nil
	}
	if ids.Count == 0 {
		return int(id), nil
	}
	if in, ok := ids.Unshift(int(id)); ok {
		return in, nil
	}
	return 0, fmt.Errorf("owner %d is neither root nor one of the sandbox's ids", id)
}

// imageCaps turns file capabilities set in the sandbox (version 3, for
// the namespace whose root is the sandbox's) into the version 2 form an
// image carries, valid for whatever root runs it.
func imageCaps(v []byte, ids sandbox.IDs) []byte {
	const v3, v3Size, v2 = 0x03000000, 24, 0x02000000
	if len(v) != v3Size || binary.LittleEndian.Uint32(v)&0xff000000 != v3 {
		return v
	}
	if rootid := binary.LittleEndian.Uint32(v[20:]); ids.Count == 0 || int(rootid) != ids.Shift(0) {
		return v
	}
	out := append([]byte(nil), v[:20]...)
	binary.LittleEndian.PutUint32(out, binary.LittleEndian.Uint32(v)&^0xff000000|v2)
	return out
}

// getxattr reads an extended attribute of a path without following a
// symlink; a missing attribute is an empty value.
func getxattr(p, name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}
