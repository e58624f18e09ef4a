package compose

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// groupMember is one entry of imagespec.AnnotationGroupMembers.
type groupMember struct {
	Package      string `json:"package"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	Source       string `json:"source"`
	DebSHA256    string `json:"debSHA256,omitempty"`
}

// layerGroup is one layer of the image holding one or more packages.
type layerGroup struct {
	name    string // "" for a single package's own layer
	members []index.Entry
}

// groupClass is the class a package is grouped with when the image is over
// its layer budget: the essential set first (common to every image), then
// each priority of the base system. Optional packages have no class.
func groupClass(e *index.Entry) string {
	switch {
	case e.Essential:
		return "essential"
	case e.Priority == "required", e.Priority == "important", e.Priority == "standard":
		return e.Priority
	}
	return ""
}

// planGroups fits the packages (in canonical order) into at most budget
// layers. Within budget every package keeps its own layer. Over budget,
// whole classes are merged, in order — the essential set, then the
// required, important and standard packages — until the image fits: these
// groups are the same in every image composed from one mirror snapshot,
// so images still share them. If that is not enough, the remaining
// packages are merged into consecutive runs of equal length in canonical
// order.
func planGroups(pkgs []index.Entry, budget int) ([]layerGroup, error) {
	if budget < 1 {
		return nil, fmt.Errorf("a layer budget of %d leaves no room for packages", budget)
	}
	singles := func(es []index.Entry) []layerGroup {
		out := make([]layerGroup, len(es))
		for i, e := range es {
			out[i] = layerGroup{members: []index.Entry{e}}
		}
		return out
	}
	if len(pkgs) <= budget {
		return singles(pkgs), nil
	}
	// Classes are contiguous in canonical order.
	var groups []layerGroup
	rest := pkgs
	merged := map[string]bool{}
	for _, class := range []string{"essential", "required", "important", "standard"} {
		merged[class] = true
		groups = nil
		rest = nil
		for _, e := range pkgs {
			c := groupClass(&e)
			if c != "" && merged[c] {
				if len(groups) == 0 || groups[len(groups)-1].name != c {
					groups = append(groups, layerGroup{name: c})
				}
				g := &groups[len(groups)-1]
				g.members = append(g.members, e)
			} else {
				rest = append(rest, e)
			}
		}
		if len(groups)+len(rest) <= budget {
			return append(groups, singles(rest)...), nil
		}
	}
	slots := budget - len(groups)
	if slots < 1 {
		return nil, fmt.Errorf("a layer budget of %d is smaller than the %d base-system groups", budget, len(groups))
	}
	size := (len(rest) + slots - 1) / slots
	for i := 0; i < len(rest); i += size {
		end := min(i+size, len(rest))
		run := rest[i:end]
		groups = append(groups, layerGroup{name: "packages-" + run[0].Package + "-" + run[len(run)-1].Package, members: run})
	}
	return groups, nil
}

// groupRecord is a group layer kept in the store.
type groupRecord struct {
	Layer  v1.Descriptor `json:"layer"`
	DiffID v1.Hash       `json:"diffID"`
}

// groupLayer returns the layer of a group: a single package's own layer, or
// the merge of its members' layers, made once and kept in the store under
// the hash of the members' digests.
//
// A cached group layer is hashed before it is reused (chk); one that does
// not match its digest is made again.
func groupLayer(st *store.Store, chk *store.Checks, g layerGroup, logf func(string, ...any)) (v1.Descriptor, v1.Hash, error) {
	if g.name == "" {
		e := g.members[0]
		return v1.Descriptor{
			MediaType: e.Layer.MediaType, Size: e.Layer.Size, Digest: e.Layer.Digest,
			Annotations: packageAnnotations(e),
		}, e.Layer.DiffID, nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "deb2fs group %d\n", FormatVersion)
	var names []string
	var members []groupMember
	for _, e := range g.members {
		fmt.Fprintf(h, "%s\n", e.Layer.Digest)
		names = append(names, e.Package+"="+e.Version)
		members = append(members, groupMember{e.Package, e.Version, e.Architecture, sourceOf(e), e.DebSHA256})
	}
	key := hex.EncodeToString(h.Sum(nil))
	detail, err := json.Marshal(members)
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	ann := map[string]string{imagespec.AnnotationGroup: g.name, imagespec.AnnotationGroupPackages: strings.Join(names, ","), imagespec.AnnotationGroupMembers: string(detail)}
	rec := filepath.Join(st.Area(store.AreaGroups), key+".json")
	var r groupRecord
	if data, err := os.ReadFile(rec); err == nil && json.Unmarshal(data, &r) == nil && st.Layout().HasBlob(r.Layer.Digest, r.Layer.Size) {
		err := chk.Check(r.Layer, "group layer "+g.name)
		if err == nil {
			r.Layer.Annotations = ann
			return r.Layer, r.DiffID, nil
		}
		logf("%v: making it again", err)
		if err := os.Remove(st.Layout().BlobPath(r.Layer.Digest)); err != nil {
			return v1.Descriptor{}, v1.Hash{}, err
		}
	}
	var diffID v1.Hash
	desc, err := st.Layout().WriteBlob(func(w io.Writer) (v1.Descriptor, error) {
		d, id, err := mergeLayers(w, st, g.members)
		diffID = id
		return d, err
	})
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("group %s: %w", g.name, err)
	}
	chk.Mark(desc.Digest)
	data, _ := json.Marshal(groupRecord{Layer: desc, DiffID: diffID})
	if err := os.MkdirAll(filepath.Dir(rec), 0o755); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	if err := st.Layout().WriteFile(rec, data); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	desc.Annotations = ann
	return desc, diffID, nil
}

// mergeLayers writes one layer holding the members' layers, in order.
// Directories shared by several members (identical in each, by the
// package layer format) are written once; no other path is written by two
// packages.
func mergeLayers(w io.Writer, st *store.Store, members []index.Entry) (v1.Descriptor, v1.Hash, error) {
	lw := rootfs.NewLayerWriter(w)
	dirs := map[string]bool{}
	for _, e := range members {
		if err := mergeLayer(lw, st, e, dirs); err != nil {
			return v1.Descriptor{}, v1.Hash{}, err
		}
	}
	return lw.Close()
}

// mergeLayer appends a member's layer, checked against its digest, to lw.
func mergeLayer(lw *rootfs.LayerWriter, st *store.Store, e index.Entry, dirs map[string]bool) error {
	what := e.Package + " " + e.Version
	rc, err := rootfs.OpenCheckedLayer(st.Layout().BlobPath(e.Layer.Digest), v1.Descriptor{MediaType: e.Layer.MediaType, Digest: e.Layer.Digest, Size: e.Layer.Size}, what)
	if err != nil {
		return err
	}
	defer rc.Close()
	return rc.Each(what, func(hdr *tar.Header, r io.Reader) error {
		if hdr.Typeflag == tar.TypeDir {
			if dirs[hdr.Name] {
				return nil
			}
			dirs[hdr.Name] = true
		}
		if err := lw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(lw, r)
		return err
	})
}

// what names the group's layer in errors: the package and version, or the
// group.
func (g layerGroup) what() string {
	if g.name == "" {
		return g.members[0].Package + " " + g.members[0].Version
	}
	return "group layer " + g.name
}
