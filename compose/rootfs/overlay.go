package rootfs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"

	"github.com/deb2fs/deb2fs/internal/userns"
	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/deb2fs/deb2fs/store"
)

// The overlay assemble path: every layer is unpacked once into a cache
// directory of the store, and a compose mounts overlayfs over those
// directories (read-only lower layers) with an upper directory in the
// scratch area. Nothing is inflated or copied per compose; what the
// maintainer scripts change lands in the upper directory. The extraction
// path (extract.go) stays the reference and the fallback.

// unpackedDir is the cache of unpacked layers, relative to the store: one
// directory per layer digest (hex), holding tree/ (the files), meta.json
// and stat (the tree's stat manifest, statManifest). A directory is
// renamed into place complete; the cache is derived data and may be
// deleted while no compose runs.
//
// The tree is unpacked from its blob, checked against its digest as it is
// read, and is checked on each use against its stat manifest: a tree
// edited since (a file's content, mode, owner, size or times; its ctime
// changes with any of them and cannot be set back) is unpacked again.
// `deb2fs verify` compares the files' contents with the blob.
const unpackedDir = "deb2fs/compose/unpacked"

// UnpackedFormat versions the cache entries' layout and meta.json. 2: the
// blob digest and the stat manifest.
const UnpackedFormat = 2

// ErrNotOverlayable says a layer set cannot be assembled with overlayfs
// with the extraction path's semantics; compose then extracts.
var ErrNotOverlayable = errors.New("not overlayable")

// Unpacked is one layer unpacked in the cache.
type Unpacked struct {
	Tree string
	Meta UnpackedMeta
}

// UnpackedMeta is what the overlay path needs to know of a layer without
// reading its tree: every path and whether it is a directory (for the
// Replaces check the extractor makes), and the newest regular file's
// mtime (the default SOURCE_DATE_EPOCH).
type UnpackedMeta struct {
	Format int `json:"format"`
	// Blob is the layer blob the tree was unpacked from, and its type.
	Blob      v1.Hash         `json:"blob"`
	MediaType types.MediaType `json:"mediaType"`
	// Newest is a Unix time in nanoseconds; 0 when the layer has no
	// regular file.
	Newest int64 `json:"newest"`
	// Dirs and Files (every other kind) are root-relative paths.
	Dirs  []string `json:"dirs"`
	Files []string `json:"files"`
}

// Unpack returns the layer blob's unpacked directory from the cache,
// unpacking it first when it is not there, its files owned through the
// sandbox's id mapping. A layer holding whiteouts is refused with
// ErrNotOverlayable: its meaning depends on the layers below. A cached
// tree that changed since it was unpacked is logged (logf may be nil),
// removed and unpacked again.
func Unpack(st *store.Store, ids sandbox.IDs, desc v1.Descriptor, logf func(string, ...any)) (*Unpacked, error) {
	dir := UnpackedRoot(st, ids)
	final := filepath.Join(dir, desc.Digest.Hex)
	u, err := LoadUnpacked(final, desc.Digest)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		// Changed, unreadable or of another format (an older deb2fs):
		// unpack again.
		if logf != nil && errors.Is(err, ErrTreeChanged) {
			logf("unpacked-layer cache: %v: unpacking it again", err)
		}
		if err := os.RemoveAll(final); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	store.RemoveStale(dir, "tmp-", func(p string) { os.RemoveAll(p) })
	tmp, err := os.MkdirTemp(dir, fmt.Sprintf("tmp-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tree := filepath.Join(tmp, "tree")
	if err := os.Mkdir(tree, 0o755); err != nil {
		return nil, err
	}
	if err := os.Lchown(tree, ids.Shift(0), ids.Shift(0)); err != nil {
		return nil, err
	}
	x := NewExtractor(tree, ids)
	x.onEntry = func(rel string) error {
		if strings.HasPrefix(filepath.Base(rel), WhiteoutPrefix) {
			return fmt.Errorf("%w: whiteout %s", ErrNotOverlayable, rel)
		}
		return nil
	}
	if err := x.Apply(st.Layout().BlobPath(desc.Digest), desc.MediaType, desc.Digest); err != nil {
		return nil, err
	}
	if err := x.Finish(); err != nil {
		return nil, err
	}
	meta := UnpackedMeta{Format: UnpackedFormat, Blob: desc.Digest, MediaType: desc.MediaType}
	if !x.Newest.IsZero() {
		meta.Newest = x.Newest.UnixNano()
	}
	// Every path, /tmp and /run too: they count for the Replaces check.
	err = filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == tree {
			return err
		}
		if rel := p[len(tree)+1:]; d.IsDir() {
			meta.Dirs = append(meta.Dirs, rel)
		} else {
			meta.Files = append(meta.Files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), data, 0o644); err != nil {
		return nil, err
	}
	stat, err := statManifest(tree)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "stat"), stat, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another compose put it there first: use theirs.
		if u, lerr := LoadUnpacked(final, desc.Digest); lerr == nil {
			return u, nil
		}
		return nil, err
	}
	return &Unpacked{Tree: filepath.Join(final, "tree"), Meta: meta}, nil
}

// UnpackedRoot is the store's cache of unpacked layers for this process's
// id mapping and the sandbox's ids: the files belong to the sandbox's
// ids as this process sees them, so each pair has a cache of its own.
func UnpackedRoot(st *store.Store, ids sandbox.IDs) string {
	dir := st.Area(store.AreaUnpacked) + "-ids-" + ids.Key()
	if k := userns.MapKey(); k != "" {
		dir += "-userns-" + k
	}
	return dir
}

// IsUnpacked reports whether the cache holds the layer.
func IsUnpacked(st *store.Store, ids sandbox.IDs, h v1.Hash) bool {
	_, err := os.Stat(filepath.Join(UnpackedRoot(st, ids), h.Hex, "meta.json"))
	return err == nil
}

// ErrTreeChanged is an unpacked tree that is not as it was unpacked.
var ErrTreeChanged = errors.New("changed since it was unpacked")

// LoadUnpacked reads the cache entry of blob h and checks its tree against
// its stat manifest.
func LoadUnpacked(final string, h v1.Hash) (*Unpacked, error) {
	u, err := ReadUnpacked(final, h)
	if err != nil {
		return nil, err
	}
	if err := CheckStat(final); err != nil {
		return nil, err
	}
	return u, nil
}

// ReadUnpacked reads a cache entry's meta.json.
func ReadUnpacked(final string, h v1.Hash) (*Unpacked, error) {
	data, err := os.ReadFile(filepath.Join(final, "meta.json"))
	if err != nil {
		return nil, err
	}
	var m UnpackedMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Format != UnpackedFormat {
		return nil, fmt.Errorf("%s: cache format %d, want %d", final, m.Format, UnpackedFormat)
	}
	if m.Blob != h {
		return nil, fmt.Errorf("%s: unpacked from blob %s, not %s", final, m.Blob, h)
	}
	return &Unpacked{Tree: filepath.Join(final, "tree"), Meta: m}, nil
}

// OverlayLayer is one lower layer of the mount: its name for errors (a
// package, or "the base layer") and its unpacked directory.
type OverlayLayer struct {
	Name     string
	Unpacked *Unpacked
}

// CheckOverlay makes the extraction path's decisions from the layers'
// metadata, recording in own which package owns each path several ship
// (an *OverlapError where no Replaces allows it). A path that is a
// directory in one layer and something else in another is
// ErrNotOverlayable (the extractor replaces or refuses it; overlayfs would
// silently hide one). It returns the newest regular file's mtime.
func CheckOverlay(layers []OverlayLayer, own *Ownership) (int64, error) {
	isDir := map[string]bool{}
	var newest int64
	for _, l := range layers {
		newest = max(newest, l.Unpacked.Meta.Newest)
		for _, d := range l.Unpacked.Meta.Dirs {
			if dir, ok := isDir[d]; ok && !dir {
				return 0, fmt.Errorf("%w: /%s is a directory in %s and not in %s below", ErrNotOverlayable, d, l.Name, own.top[d])
			}
			isDir[d] = true
		}
		for _, f := range l.Unpacked.Meta.Files {
			if dir, ok := isDir[f]; ok && dir {
				return 0, fmt.Errorf("%w: /%s is not a directory in %s but one in a layer below", ErrNotOverlayable, f, l.Name)
			}
			isDir[f] = false
			if err := own.Add(f, l.Name); err != nil {
				return 0, err
			}
		}
	}
	return newest, nil
}

// Unmount detaches a mount point; not being one is no error.
func Unmount(p string) error {
	err := unix.Unmount(p, unix.MNT_DETACH)
	if err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("unmount %s: %w", p, err)
}
