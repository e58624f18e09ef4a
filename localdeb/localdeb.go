// Package localdeb brings .deb files of one's own into a compose: each is
// converted into the store like an archive package (cached by its
// SHA256), and its index entry joins the mirror index's, so that it is
// resolved together with the archive (its dependencies come from there).
package localdeb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/store"
)

// FilenamePrefix starts the Filename of a local package's index entry:
// local:NAME.deb, where an archive package has its pool path.
const FilenamePrefix = "local:"

// Add converts the .debs at paths into st (a .deb converted before is
// not converted again) and returns a copy of idx holding their entries,
// and the requests that pick them: NAME=VERSION each. A local package
// with the name, version and architecture of an index package is an
// error unless it is the same .deb, as is one path given twice.
func Add(ctx context.Context, st *store.Store, idx *index.Index, paths []string) (*index.Index, []string, error) {
	out := *idx
	out.Packages = append([]index.Entry(nil), idx.Packages...)
	at := map[string]int{}
	maxSeq := 0
	for i, e := range out.Packages {
		at[e.Package+"_"+e.Version+"_"+e.Architecture] = i
		maxSeq = max(maxSeq, e.Seq)
	}
	var pins []string
	seen := map[string]string{}
	for _, path := range paths {
		e, err := entry(ctx, st, path)
		if err != nil {
			return nil, nil, fmt.Errorf("local package %s: %w", path, err)
		}
		if prev, ok := seen[e.DebSHA256]; ok {
			return nil, nil, fmt.Errorf("local package %s: the same .deb as %s", path, prev)
		}
		seen[e.DebSHA256] = path
		key := e.Package + "_" + e.Version + "_" + e.Architecture
		if i, ok := at[key]; ok {
			if out.Packages[i].DebSHA256 != e.DebSHA256 {
				return nil, nil, fmt.Errorf("local package %s: %s %s %s is also in the mirror index, with other contents (.deb sha256 %s there, %s here): give the local package another version",
					path, e.Package, e.Version, e.Architecture, out.Packages[i].DebSHA256, e.DebSHA256)
			}
		} else {
			maxSeq++
			e.Seq = maxSeq // read after the archive's lists, as apt reads a local .deb
			at[key] = len(out.Packages)
			out.Packages = append(out.Packages, e)
		}
		pins = append(pins, e.Package+"="+e.Version)
	}
	return &out, pins, nil
}

// entry converts one .deb into the store and returns its index entry.
func entry(ctx context.Context, st *store.Store, path string) (index.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return index.Entry{}, err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return index.Entry{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return index.Entry{}, err
	}
	ctl, err := convert.ReadControl(ctx, f)
	if err != nil {
		return index.Entry{}, err
	}
	// The control paragraph as a Packages stanza: the index entry is made
	// from it as from the archive's.
	stanza := bytes.TrimRight(ctl.Bytes(), "\n")
	stanza = fmt.Appendf(stanza, "\nFilename: %s%s\nSize: %d\nSHA256: %s\n", FilenamePrefix, filepath.Base(path), size, sum)
	pkgs, err := archive.ReadPackages(bytes.NewReader(stanza))
	if err != nil || len(pkgs) != 1 {
		return index.Entry{}, fmt.Errorf("control paragraph: %v", err)
	}
	e := mirror.EntryOf(&pkgs[0])

	res := convert.Batch(ctx, []convert.Job{{Path: path, DebSHA256: sum}}, st, convert.BatchOptions{Jobs: 1})[0]
	if res.Err != nil {
		return index.Entry{}, res.Err
	}
	rec, ok, err := st.LookupRecord(convert.Key{DebSHA256: sum, Compression: convert.Gzip})
	if err != nil || !ok {
		return index.Entry{}, fmt.Errorf("no record in the store after converting it: %v", err)
	}
	e.Layer = mirror.LayerOf(rec)
	return e, nil
}
