// Package store keeps package layers in an OCI image layout directory,
// content-addressed by convert.Key (the .deb's SHA256, the layer-format
// version and the compression).
//
// Every layer is the single layer of a small image manifest listed in the
// layout's index.json, so standard tools (skopeo, umoci, podman) read each
// package as an image and nothing a garbage collector walks would drop it.
// Writes are crash-safe: blobs and records go to a temporary file and are
// renamed into place; index.json is replaced atomically under a lock.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/convert"
)

// Store is an OCI image layout directory holding package layers.
type Store struct {
	dir    string
	layout *Layout
}

// privateDir is the store's own directory inside the layout, which OCI
// readers ignore: key records, temporary files, locks, caches.
const privateDir = "deb2fs"

// Private areas of a store (Area): directories under deb2fs/ that a
// concept above the store keeps its own files in.
const (
	// AreaDownloads holds .debs a mirror run is fetching.
	AreaDownloads = "downloads"
	// AreaCompose holds compose's configure-layer cache records.
	AreaCompose = "compose"
	// AreaGroups holds compose's group-layer records.
	AreaGroups = "compose/groups"
	// AreaUnpacked holds compose's unpacked-layer cache.
	AreaUnpacked = "compose/unpacked"
)

// Area is the directory of the store's private area name (AreaDownloads,
// AreaCompose, ...); the caller makes it when it needs it.
func (s *Store) Area(name string) string {
	return filepath.Join(s.dir, privateDir, filepath.FromSlash(name))
}

// Layout is the store as an OCI layout to write blobs and tags into.
func (s *Store) Layout() *Layout { return s.layout }

// Record is what the store keeps per key: the layer and the manifest that
// references it.
type Record struct {
	convert.Layer
	Manifest v1.Descriptor `json:"manifest"`
}

// DefaultDir is the per-user store: $XDG_DATA_HOME/deb2fs/store, or
// ~/.local/share/deb2fs/store.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "deb2fs", "store"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the default store (use --store): %w", err)
	}
	return filepath.Join(home, ".local", "share", "deb2fs", "store"), nil
}

// Open opens the store in dir, creating an empty OCI layout if dir does not
// hold one yet, and removes temporary files left by runs that were killed.
func Open(dir string) (*Store, error) {
	s := &Store{dir: dir, layout: storeLayout(dir)}
	for _, d := range []string{s.blobDir(), s.keyDir(), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("store %s: %w", dir, err)
		}
	}
	if err := s.layout.init(); err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	s.removeStaleTemps()
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) blobDir() string   { return filepath.Join(s.dir, "blobs", "sha256") }
func (s *Store) keyDir() string    { return filepath.Join(s.dir, privateDir, "layers") }
func (s *Store) tmpDir() string    { return filepath.Join(s.dir, privateDir, "tmp") }
func (s *Store) indexPath() string { return filepath.Join(s.dir, "index.json") }

// BlobPath is the path of a blob in the layout.
func (s *Store) BlobPath(h v1.Hash) string { return filepath.Join(s.dir, "blobs", h.Algorithm, h.Hex) }

// Lookup returns the layer stored under key. A record whose blob is
// missing (a store damaged by hand) counts as absent, so it is remade.
func (s *Store) Lookup(key convert.Key) (*convert.Layer, bool, error) {
	rec, ok, err := s.record(key)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &rec.Layer, true, nil
}

func (s *Store) record(key convert.Key) (*Record, bool, error) {
	data, err := os.ReadFile(filepath.Join(s.keyDir(), key.String()+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, false, fmt.Errorf("store record %s: %w", key, err)
	}
	for _, h := range []v1.Hash{rec.Digest, rec.Manifest.Digest} {
		if fi, err := os.Stat(s.BlobPath(h)); err != nil || !fi.Mode().IsRegular() {
			return nil, false, nil
		}
	}
	return &rec, true, nil
}

// Put writes the layer produced by write into the store under key: the
// blob goes to a temporary file that is renamed to its digest only when
// write succeeded, then the package's config and manifest, then the key
// record. A failure or a kill at any point leaves no record pointing at a
// missing blob; leftovers are temporary files that Open removes.
func (s *Store) Put(ctx context.Context, key convert.Key, write func(io.Writer) (*convert.Layer, error)) (*convert.Layer, error) {
	tmp, err := s.createTemp()
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	layer, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(0o644) // as every other blob: the layout is readable by all
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), s.BlobPath(layer.Digest)); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	manifest, err := s.writeManifest(layer)
	if err != nil {
		return nil, err
	}
	rec, err := json.MarshalIndent(Record{Layer: *layer, Manifest: manifest}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(s, filepath.Join(s.keyDir(), key.String()+".json"), rec); err != nil {
		return nil, err
	}
	return layer, nil
}

// createTemp makes a temporary file whose name carries this process's pid,
// so that Open can tell a dead run's leftovers from a live run's work.
func (s *Store) createTemp() (*os.File, error) { return s.layout.CreateTemp() }

// removeStaleTemps removes the temporary files whose writer is gone (and
// any file not named after one).
func (s *Store) removeStaleTemps() {
	entries, _ := os.ReadDir(s.tmpDir())
	for _, e := range entries {
		pidStr, _, _ := strings.Cut(e.Name(), "-")
		if pid, err := strconv.Atoi(pidStr); err == nil && processAlive(pid) {
			continue // a live process is writing it
		}
		os.Remove(filepath.Join(s.tmpDir(), e.Name()))
	}
}

// RemoveStale calls remove on each entry of dir named prefix, then the pid
// of the process that made it, then "-", whose process is gone: the
// leftovers of killed runs. Every temporary file and work directory deb2fs
// makes is named so.
func RemoveStale(dir, prefix string, remove func(path string)) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		if pid, err := strconv.Atoi(pidStr); err == nil && !processAlive(pid) {
			remove(filepath.Join(dir, e.Name()))
		}
	}
}

// writeFileAtomic writes data to path through a temporary file in the
// store and a rename, so a reader sees the old file or the new one.
func writeFileAtomic(s *Store, path string, data []byte) error { return s.layout.WriteFile(path, data) }

// replaceFile writes data into tmp, a new temporary file on path's file
// system, syncs it, makes it 0644 and renames it to path, so a reader sees
// the old file or the new one and a crash leaves no half-written path. tmp
// is closed, and removed unless it was renamed.
func replaceFile(tmp *os.File, path string, data []byte) error {
	defer os.Remove(tmp.Name())
	_, err := tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// processAlive reports whether pid is a running process: a killed process
// that its parent has not reaped yet (a zombie) writes nothing any more.
// Files named after their writer's pid are stale when it is not alive.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no procfs: trust kill(0)
	}
	// The state follows the command name, which is in parentheses.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
