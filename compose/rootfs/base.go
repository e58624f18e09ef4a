package rootfs

import (
	"archive/tar"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// mergedDirs returns the top-level directories that are symlinks into /usr
// on a merged-/usr system of Debian architecture arch: the directories the
// package layers' paths were moved out of (docs/layer-format.md).
func mergedDirs(arch string) []string {
	dirs := []string{"bin", "lib", "sbin"}
	switch arch {
	case "amd64", "ppc64el", "s390x", "loong64", "mips64el", "riscv64", "sparc64":
		dirs = append(dirs, "lib64")
	}
	return dirs
}

// baseEntry is one entry of the base layer.
type baseEntry struct {
	name     string
	typ      byte
	mode     int64
	linkname string
	data     string
}

// baseEntries lists the base layer of architecture arch, in tar order: the
// root skeleton that no package ships, the merged-/usr symlinks and the
// dpkg database files that are shared by every package (an empty status,
// info/format).
func baseEntries(arch string) []baseEntry {
	dir := func(name string, mode int64) baseEntry {
		return baseEntry{name: name + "/", typ: tar.TypeDir, mode: mode}
	}
	var es []baseEntry
	for _, d := range mergedDirs(arch) {
		es = append(es, baseEntry{name: d, typ: tar.TypeSymlink, mode: 0o777, linkname: "usr/" + d})
	}
	es = append(es,
		dir("dev", 0o755), dir("etc", 0o755), dir("proc", 0o755), dir("root", 0o700),
		dir("run", 0o755), dir("sys", 0o755), dir("tmp", 0o1777), dir("usr", 0o755),
	)
	for _, d := range mergedDirs(arch) {
		es = append(es, dir("usr/"+d, 0o755))
	}
	es = append(es,
		dir("var", 0o755), dir("var/lib", 0o755), dir("var/lib/dpkg", 0o755),
		dir("var/lib/dpkg/alternatives", 0o755), dir("var/lib/dpkg/info", 0o755),
		baseEntry{name: "var/lib/dpkg/info/format", typ: tar.TypeReg, mode: 0o644, data: "1\n"},
		baseEntry{name: "var/lib/dpkg/status", typ: tar.TypeReg, mode: 0o644},
		dir("var/lib/dpkg/updates", 0o755), dir("var/tmp", 0o1777),
	)
	return es
}

// WriteBaseLayer writes the base layer of architecture arch. Every entry is
// owned by root with the Unix epoch as mtime, like the package layers'
// directories, so the base is the same for every image of an
// architecture and shared between them.
func WriteBaseLayer(w io.Writer, arch string) (v1.Descriptor, v1.Hash, error) {
	lw := NewLayerWriter(w)
	for _, e := range baseEntries(arch) {
		hdr := &tar.Header{
			Typeflag: e.typ, Name: e.name, Linkname: e.linkname, Mode: e.mode,
			Size: int64(len(e.data)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX,
		}
		if err := lw.WriteHeader(hdr); err != nil {
			return v1.Descriptor{}, v1.Hash{}, err
		}
		if _, err := io.WriteString(lw, e.data); err != nil {
			return v1.Descriptor{}, v1.Hash{}, err
		}
	}
	return lw.Close()
}
