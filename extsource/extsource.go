// Package extsource brings an image definition's extra apt sources (a
// third-party repository with its own keyring) into a compose. Each source
// is read as apt reads it: its InRelease verified with the keyring the
// definition names and no other, its Packages lists checked against the
// signed hashes. Their packages join the mirror index's, so that they are
// resolved together with the archive (apt's rules: the highest version of
// a name wins, whichever source has it). A package a compose picks from a
// source is fetched (size and SHA256 checked against the signed lists) and
// converted into the store once: a package converted before, by its .deb's
// SHA256, is not fetched again.
package extsource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/store"
)

// Added is a mirror index with the packages of extra sources added.
type Added struct {
	// Index is a copy of the mirror index holding the sources' packages
	// too; their entries have a layer once converted (Fill).
	Index  *index.Index
	client *archive.Client
	// pkgs are the sources' packages by .deb SHA256, at their entries'
	// places in Index.Packages.
	pkgs map[string]*archive.Package
	at   map[string]int
}

// Add loads srcs with client (every suite must load and verify: an
// image definition's source is not optional) and returns a copy of idx
// with their packages added after its own, as apt reads sources listed
// after the host's. A package with the name, version and architecture of
// one idx has is the same package when its .deb is the same and is
// otherwise an error naming both. A source package that is in the store
// already gets its layer at once.
func Add(ctx context.Context, client *archive.Client, st *store.Store, idx *index.Index, srcs []aptsources.Source) (*Added, error) {
	a := &Added{client: client, pkgs: map[string]*archive.Package{}, at: map[string]int{}}
	out := *idx
	out.Packages = append([]index.Entry(nil), idx.Packages...)
	out.Origins = append([]index.Origin(nil), idx.Origins...)
	a.Index = &out
	if len(srcs) == 0 {
		return a, nil
	}
	archs := indexArchs(idx)
	for i := range srcs {
		if len(srcs[i].Architectures) == 0 {
			srcs[i].Architectures = archs
		}
	}
	snap, err := client.Load(ctx, srcs, true)
	if err != nil {
		return nil, fmt.Errorf("extra sources: %w", err)
	}
	origins, origin := mirror.OriginsOf(snap.Releases, srcs, len(out.Origins))
	out.Origins = append(out.Origins, origins...)
	pkgs, err := snap.Merge()
	if err != nil {
		return nil, fmt.Errorf("extra sources: %w", err)
	}
	at := map[string]int{}
	seqOf := map[string]int{} // a name keeps the number it has
	maxSeq := 0
	for i, e := range out.Packages {
		at[e.Package+"_"+e.Version+"_"+e.Architecture] = i
		maxSeq = max(maxSeq, e.Seq)
		if _, ok := seqOf[e.Package]; !ok {
			seqOf[e.Package] = e.Seq
		}
	}
	for _, p := range pkgs {
		key := p.Name + "_" + p.Version + "_" + p.Architecture
		if i, ok := at[key]; ok {
			if out.Packages[i].DebSHA256 != p.SHA256 {
				return nil, fmt.Errorf("extra source %s: %s %s %s is also in the mirror index, with another .deb (sha256 %s there, %s in %s)",
					p.Release.URI, p.Name, p.Version, p.Architecture, out.Packages[i].DebSHA256, p.SHA256, p.Filename)
			}
			continue
		}
		e := mirror.EntryOf(p)
		e.Origin = origin[p.Release]
		// Names first met in a source are read after the index's, in the
		// order of their first stanza; a name the index has keeps its
		// number.
		if s, ok := seqOf[p.Name]; ok {
			e.Seq = s
		} else {
			maxSeq++
			e.Seq, seqOf[p.Name] = maxSeq, maxSeq
		}
		if err := a.layerFromStore(st, &e); err != nil {
			return nil, err
		}
		at[key] = len(out.Packages)
		a.at[p.SHA256] = len(out.Packages)
		out.Packages = append(out.Packages, e)
		a.pkgs[p.SHA256] = p
	}
	return a, nil
}

// indexArchs are the architectures of idx's packages other than all, or
// the native one.
func indexArchs(idx *index.Index) []string {
	var archs []string
	for _, e := range idx.Packages {
		if e.Architecture != "all" && !slices.Contains(archs, e.Architecture) {
			archs = append(archs, e.Architecture)
		}
	}
	if len(archs) == 0 {
		archs = []string{aptsources.NativeArch()}
	}
	return archs
}

// From reports whether e is a package of one of the extra sources.
func (a *Added) From(e index.Entry) bool { return a.pkgs[e.DebSHA256] != nil }

// Fill gives every entry of es that comes from an extra source its layer:
// the store's, or the .deb fetched, verified and converted into st. The
// same entries of a.Index get it too.
func (a *Added) Fill(ctx context.Context, st *store.Store, es []index.Entry) error {
	var tmp string
	for i := range es {
		p := a.pkgs[es[i].DebSHA256]
		if p == nil || es[i].Layer.Digest.Hex != "" {
			continue
		}
		if err := a.layerFromStore(st, &es[i]); err != nil {
			return err
		}
		if es[i].Layer.Digest.Hex == "" {
			if tmp == "" {
				d, err := os.MkdirTemp("", "deb2fs-extsource-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(d)
				tmp = d
			}
			if err := a.convert(ctx, st, p, tmp); err != nil {
				return err
			}
			if err := a.layerFromStore(st, &es[i]); err != nil {
				return err
			}
		}
		if j, ok := a.at[es[i].DebSHA256]; ok {
			a.Index.Packages[j].Layer = es[i].Layer
		}
	}
	return nil
}

// convert fetches p's .deb into dir (verified while it streams) and
// converts it into st.
func (a *Added) convert(ctx context.Context, st *store.Store, p *archive.Package, dir string) error {
	path := filepath.Join(dir, p.SHA256+".deb")
	if err := a.client.Fetch(ctx, p, path); err != nil {
		return fmt.Errorf("extra source %s: %w", p.Release.URI, err)
	}
	defer os.Remove(path)
	res := convert.Batch(ctx, []convert.Job{{Path: path, DebSHA256: p.SHA256}}, st, convert.BatchOptions{Jobs: 1})[0]
	if res.Err != nil {
		return fmt.Errorf("convert %s (%s): %w", p.ID(), p.Filename, res.Err)
	}
	if l := res.Layer; l.Package != p.Name || l.Version != p.Version || l.Architecture != p.Architecture {
		return fmt.Errorf("convert %s (%s): the .deb is %s %s %s, not what Packages lists", p.ID(), p.Filename, l.Package, l.Version, l.Architecture)
	}
	return nil
}

// layerFromStore sets e's layer when st has the conversion of its .deb.
func (a *Added) layerFromStore(st *store.Store, e *index.Entry) error {
	rec, ok, err := st.LookupRecord(convert.Key{DebSHA256: e.DebSHA256, Compression: convert.Gzip})
	if err != nil || !ok {
		return err
	}
	e.Layer = mirror.LayerOf(rec)
	return nil
}
