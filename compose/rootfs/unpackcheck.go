package rootfs

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// statManifest lists every entry of an unpacked tree, in walk order, with
// its type and mode, owner, size, inode, modification and change times,
// one line each: what a cheap check on each use compares (checkStat). The
// change time moves with any edit, chmod, chown or utimes and cannot be
// set back without changing the clock.
func statManifest(tree string) ([]byte, error) {
	var buf bytes.Buffer
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		b := buf.AvailableBuffer()
		b = strconv.AppendUint(b, uint64(st.Mode), 8)
		for _, n := range []int64{int64(st.Uid), int64(st.Gid), st.Size, int64(st.Ino), st.Mtim.Nano(), st.Ctim.Nano()} {
			b = append(b, ' ')
			b = strconv.AppendInt(b, n, 10)
		}
		b = append(b, ' ')
		b = strconv.AppendQuote(b, p[len(tree):])
		b = append(b, '\n')
		buf.Write(b)
		return nil
	})
	return buf.Bytes(), err
}

// CheckStat compares the cache entry's tree with its stat manifest: an
// ErrTreeChanged naming the first entry that differs, or nil.
func CheckStat(final string) error {
	want, err := os.ReadFile(filepath.Join(final, "stat"))
	if err != nil {
		return err
	}
	got, err := statManifest(filepath.Join(final, "tree"))
	if err != nil {
		return fmt.Errorf("%s: %w: %v", final, ErrTreeChanged, err)
	}
	if bytes.Equal(got, want) {
		return nil
	}
	return fmt.Errorf("%s: %w: %s", final, ErrTreeChanged, firstDiff(want, got))
}

// firstDiff names the first line where two stat manifests differ.
func firstDiff(want, got []byte) string {
	for {
		wl, wrest, _ := bytes.Cut(want, []byte("\n"))
		gl, grest, _ := bytes.Cut(got, []byte("\n"))
		if !bytes.Equal(wl, gl) {
			path := func(l []byte) string {
				if i := bytes.IndexByte(l, '"'); i >= 0 {
					if s, err := strconv.Unquote(string(l[i:])); err == nil {
						return s
					}
				}
				return "(end)"
			}
			if w, g := path(wl), path(gl); w != g {
				return fmt.Sprintf("%s is missing or %s was added", "tree"+w, "tree"+g)
			}
			return fmt.Sprintf("tree%s: stat (mode uid gid size ino mtime ctime) now %s, when unpacked %s", path(wl), statFields(gl), statFields(wl))
		}
		if len(wrest) == 0 && len(grest) == 0 {
			return "no difference"
		}
		want, got = wrest, grest
	}
}

// statFields is a manifest line without its path.
func statFields(l []byte) string {
	s, _, _ := bytes.Cut(l, []byte(` "`))
	return string(s)
}
