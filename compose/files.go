package compose

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/firstboot"
)

// File is one entry of an image's files layer: the user's own files, from
// a build context (an image definition's files), on top of the configure
// layer.
type File struct {
	// Path is where the entry is in the image: absolute and clean.
	Path string
	// Type is tar.TypeReg, tar.TypeDir or tar.TypeSymlink.
	Type byte
	// Source is the host file a regular file's content is read from.
	Source string
	// Target is a symlink's target.
	Target string
	// Mode is the permission bits (with setuid, setgid, sticky).
	Mode int64
	// UID and GID own the entry in the image.
	UID, GID int
}

// checkFiles refuses a files list a layer could not hold: a relative or
// unclean path, "/", a path listed twice, an unknown type, a symlink
// without a target.
func checkFiles(files []File) error {
	seen := map[string]bool{}
	for _, f := range files {
		if !strings.HasPrefix(f.Path, "/") || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return fmt.Errorf("file %q: not a clean absolute path below /", f.Path)
		}
		if seen[f.Path] {
			return fmt.Errorf("file %s: listed twice", f.Path)
		}
		seen[f.Path] = true
		switch {
		case f.Type == tar.TypeReg && f.Source == "":
			return fmt.Errorf("file %s: no source", f.Path)
		case f.Type == tar.TypeSymlink && f.Target == "":
			return fmt.Errorf("file %s: symlink without a target", f.Path)
		case f.Type != tar.TypeReg && f.Type != tar.TypeDir && f.Type != tar.TypeSymlink:
			return fmt.Errorf("file %s: type %q is not a file, directory or symlink", f.Path, f.Type)
		case f.Mode&^0o7777 != 0:
			return fmt.Errorf("file %s: mode %o has more than permission bits", f.Path, f.Mode)
		case f.UID < 0 || f.GID < 0:
			return fmt.Errorf("file %s: negative owner", f.Path)
		}
	}
	return nil
}

// writeFilesLayer writes the files layer: the entries sorted
// path-component-wise (a directory before what it holds), every time
// sde, numeric owners without names. A directory that is not listed is
// not written: the layers below give it (or the runtime makes it, 0755
// root). The same files give the same bytes. A source that changes size
// while it is read is an error naming it.
func writeFilesLayer(w io.Writer, files []File, sde time.Time) (v1.Descriptor, v1.Hash, error) {
	if err := checkFiles(files); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return rootfs.PathLess(sorted[i].Path[1:], sorted[j].Path[1:]) })
	lw := rootfs.NewLayerWriter(w)
	for _, f := range sorted {
		hdr := &tar.Header{
			Typeflag: f.Type, Name: f.Path[1:], Linkname: f.Target, Mode: f.Mode,
			Uid: f.UID, Gid: f.GID, ModTime: sde, Format: tar.FormatPAX,
		}
		if f.Type == tar.TypeDir {
			hdr.Name += "/"
		}
		var src *os.File
		if f.Type == tar.TypeReg {
			var err error
			if src, err = os.Open(f.Source); err != nil {
				return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("file %s: %w", f.Path, err)
			}
			fi, err := src.Stat()
			if err != nil || !fi.Mode().IsRegular() {
				src.Close()
				return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("file %s: source %s is not a regular file", f.Path, f.Source)
			}
			hdr.Size = fi.Size()
		}
		err := lw.WriteHeader(hdr)
		if err == nil && src != nil {
			var n int64
			n, err = io.Copy(lw, io.LimitReader(src, hdr.Size+1))
			if err == nil && n != hdr.Size {
				err = fmt.Errorf("source %s changed size while read (%d bytes, then %d)", f.Source, hdr.Size, n)
			}
		}
		if src != nil {
			src.Close()
		}
		if err != nil {
			return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("file %s: %w", f.Path, err)
		}
	}
	return lw.Close()
}

// imageConfig is the config's runtime part: PATH and the settings' Env,
// firstboot's entrypoint before the settings' own, the command, labels.
func (s Config) imageConfig(cmd []string, labels map[string]string) v1.Config {
	env := []string{"PATH=" + DefaultPath}
	for _, kv := range s.Env {
		if strings.HasPrefix(kv, "PATH=") {
			env[0] = kv
			continue
		}
		env = append(env, kv)
	}
	cfg := v1.Config{
		Env:        env,
		Entrypoint: append([]string{firstboot.EntrypointPath}, s.Entrypoint...),
		Cmd:        cmd,
		Labels:     labels,
		WorkingDir: s.WorkingDir,
		User:       s.User,
	}
	if len(s.ExposedPorts) > 0 {
		cfg.ExposedPorts = map[string]struct{}{}
		for _, p := range s.ExposedPorts {
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	if len(s.Volumes) > 0 {
		cfg.Volumes = map[string]struct{}{}
		for _, v := range s.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	}
	return cfg
}
