package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/index"
)

// sources returns the apt sources the run reads.
func sources(o *Options) ([]aptsources.Source, error) {
	if o.Sources != nil {
		return o.Sources, nil
	}
	var host []aptsources.Source
	if len(o.Override.Archives) == 0 {
		var warns []aptsources.Warning
		var err error
		host, warns, err = aptsources.LoadSources(o.AptRoot)
		if err != nil {
			return nil, err
		}
		for _, w := range warns {
			o.Report.Warn("apt sources: " + w.String())
		}
	}
	srcs, err := o.Override.Apply(host)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("no apt source to mirror (none configured under %s; give --archive and --suite)", aptRoot(o.AptRoot))
	}
	return srcs, nil
}

func aptRoot(r string) string {
	if r == "" {
		return "/etc/apt"
	}
	return r + "/etc/apt"
}

// scopeNames is the scope as recorded in the index.
func scopeNames(o *Options) []string {
	if o.All {
		return []string{"all"}
	}
	s := append([]string(nil), o.Packages...)
	sort.Strings(s)
	return s
}

// inputDigest is a digest of everything a run's index depends on: the
// formats (with the entry revision), the compression, the scope and, for
// every suite, component and architecture read, the SHA256 of the Packages
// files its verified Release lists. rels are found by (URI, dist); a suite
// with no Release (skipped) counts as such.
func inputDigest(o *Options, srcs []aptsources.Source, rels []*archive.Release) string {
	h := sha256.New()
	fmt.Fprintf(h, "index %d.%d layer %d compression %s\n", index.FormatVersion, index.EntryRevision, convert.FormatVersion, o.Compression)
	fmt.Fprintf(h, "scope %s\n", strings.Join(scopeNames(o), " "))
	for _, s := range srcs {
		for _, d := range s.Suites {
			var rel *archive.Release
			for _, r := range rels {
				if r.URI == s.URI && r.Dist == d {
					rel = r
					break
				}
			}
			if rel == nil {
				fmt.Fprintf(h, "suite %s %s missing\n", s.URI, d)
				continue
			}
			fmt.Fprintf(h, "suite %s\n", rel.Key())
			for _, c := range s.Components {
				for _, a := range append(append([]string(nil), s.Archs()...), "all") {
					writePackagesHashes(h, rel, c+"/binary-"+a+"/Packages")
				}
			}
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func writePackagesHashes(w io.Writer, rel *archive.Release, prefix string) {
	var paths []string
	for p := range rel.Files {
		if p == prefix || strings.HasPrefix(p, prefix+".") {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(w, "%s %s %d\n", p, rel.Files[p].SHA256, rel.Files[p].Size)
	}
}

// releases fetches and verifies the Release of every suite of srcs, each
// (URI, suite) once. It is the cheap first step of a run: when the input
// digest it gives equals the latest index's, nothing else is fetched.
func releases(ctx context.Context, c *archive.Client, srcs []aptsources.Source) ([]*archive.Release, error) {
	seen := map[string]bool{}
	var rels []*archive.Release
	for _, s := range srcs {
		for _, d := range s.Suites {
			if seen[s.URI+" "+d] {
				continue
			}
			seen[s.URI+" "+d] = true
			rel, err := c.Release(ctx, s, d)
			if err != nil {
				return nil, &archive.SourceError{Source: s, Dist: d, Err: err}
			}
			rels = append(rels, rel)
		}
	}
	return rels, nil
}
