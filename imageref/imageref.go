// Package imageref parses the image references deb2fs's commands take,
// one way for all of them (inspect, which, diff, update, compose --output,
// mirror's, compose's and lock's --store):
//
//   - oci:DIR[:TAG] — an OCI image layout directory; TAG (a ref name or
//     sha256:DIGEST) is what follows DIR's first ':';
//   - docker-archive:FILE[:TAG] — a `docker load` tar;
//   - docker://REF — a registry reference, as go-containerregistry's
//     name.ParseReference understands it;
//   - HOST[:PORT]/REPO[:TAG|@DIGEST] — a registry reference too, when its
//     first path component names a registry as go-containerregistry tells
//     one: it has a '.' or a ':', or is localhost ("library/debian" is not
//     one: write docker://library/debian for Docker Hub);
//   - anything else is a Name: a tag or sha256:DIGEST in the store, or, for
//     a --store, a directory.
//
// skopeo's containers-storage:, docker-daemon: and oci-archive: are refused
// by name: deb2fs reads and writes none of them. The package imports
// nothing of deb2fs.
package imageref

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Transport says what a reference names.
type Transport string

// Transports.
const (
	// Name is a reference without a transport: a tag or digest in the
	// store (or a directory, where a command takes one).
	Name Transport = ""
	// OCI is an OCI image layout directory.
	OCI Transport = "oci"
	// DockerArchive is a `docker load` tar file.
	DockerArchive Transport = "docker-archive"
	// Registry is an image in a registry.
	Registry Transport = "docker"
)

// Ref is a parsed image reference.
type Ref struct {
	Transport Transport
	// Path is the layout directory (OCI), the archive file
	// (DockerArchive), the registry reference without docker://
	// (Registry, REGISTRY/REPO[:TAG|@DIGEST]) or the name itself (Name).
	Path string
	// Tag is the OCI or DockerArchive tag after Path's first ':'; "" when
	// there is none.
	Tag string
}

// unsupported are transports other tools know that deb2fs does not.
var unsupported = []string{"containers-storage:", "docker-daemon:", "oci-archive:"}

// Parse parses an image reference. "" is the Name "".
func Parse(s string) (Ref, error) {
	if rest, ok := strings.CutPrefix(s, "docker://"); ok {
		if _, err := name.ParseReference(rest); err != nil {
			return Ref{}, fmt.Errorf("%q: %w", s, err)
		}
		return Ref{Transport: Registry, Path: rest}, nil
	}
	for _, t := range []Transport{OCI, DockerArchive} {
		if rest, ok := strings.CutPrefix(s, string(t)+":"); ok {
			path, tag, _ := strings.Cut(rest, ":")
			if path == "" {
				return Ref{}, fmt.Errorf("%q: %s: names no %s", s, t, map[Transport]string{OCI: "directory", DockerArchive: "file"}[t])
			}
			return Ref{Transport: t, Path: path, Tag: tag}, nil
		}
	}
	for _, u := range unsupported {
		if strings.HasPrefix(s, u) {
			return Ref{}, fmt.Errorf("%q: deb2fs reads and writes no %s images (oci:DIR[:TAG], docker-archive:FILE[:TAG] or a registry)", s, strings.TrimSuffix(u, ":"))
		}
	}
	if HasRegistry(s) {
		if _, err := name.ParseReference(s); err != nil {
			return Ref{}, fmt.Errorf("%q: %w", s, err)
		}
		return Ref{Transport: Registry, Path: s}, nil
	}
	return Ref{Transport: Name, Path: s}, nil
}

// HasRegistry reports whether s, without a transport, is a registry
// reference: HOST[:PORT]/REPO…, its first path component having a '.' or a
// ':' or being localhost, as go-containerregistry tells a registry from a
// repository's first component. Paths are not: s starting with '/', '.'
// or '~' (./dir, ../dir, .cache/dir, ~/dir).
func HasRegistry(s string) bool {
	if s == "" || strings.ContainsAny(s[:1], "/.~") {
		return false
	}
	host, _, ok := strings.Cut(s, "/")
	return ok && (strings.ContainsAny(host, ".:") || host == "localhost")
}

// String is the reference as Parse reads it: oci:DIR[:TAG],
// docker-archive:FILE[:TAG], docker://REF or the name.
func (r Ref) String() string {
	switch r.Transport {
	case Name:
		return r.Path
	case Registry:
		return "docker://" + r.Path
	}
	s := string(r.Transport) + ":" + r.Path
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	return s
}

// Reference is a Registry ref's go-containerregistry reference.
func (r Ref) Reference() (name.Reference, error) {
	if r.Transport != Registry {
		return nil, fmt.Errorf("%s: not a registry reference", r)
	}
	return name.ParseReference(r.Path)
}
