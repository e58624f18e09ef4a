package store

import (
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/dpkg"
	"github.com/deb2fs/deb2fs/imagespec"
)

// ociArch maps a Debian architecture to an OCI platform. Architecture: all
// packages get the platform of the machine that stores them: their layer
// is the same everywhere, only the small manifest differs.
func ociArch(debArch string) (arch, variant string) {
	if debArch == "all" {
		return runtime.GOARCH, ""
	}
	return dpkg.OCIPlatform(debArch)
}

// writeManifest writes the config and manifest of the one-layer image that
// holds a package layer, and returns the manifest's descriptor (annotated
// with the package and the ref name tools use).
func (s *Store) writeManifest(l *convert.Layer) (v1.Descriptor, error) {
	arch, variant := ociArch(l.Architecture)
	cfg := v1.ConfigFile{
		Architecture: arch,
		Variant:      variant,
		OS:           "linux",
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{l.DiffID}},
		Config: v1.Config{Labels: map[string]string{
			imagespec.AnnotationPackage: l.Package, imagespec.AnnotationVersion: l.Version,
			imagespec.AnnotationArchitecture: l.Architecture,
		}},
	}
	cfgDesc, err := s.writeBlob(types.OCIConfigJSON, cfg)
	if err != nil {
		return v1.Descriptor{}, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        cfgDesc,
		Layers: []v1.Descriptor{{
			MediaType: l.MediaType, Size: l.Size, Digest: l.Digest, Annotations: l.Annotations(),
		}},
		Annotations: l.Annotations(),
	}
	desc, err := s.writeBlob(types.OCIManifestSchema1, m)
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc.Annotations = l.Annotations()
	desc.Annotations[imagespec.AnnotationRefName] = RefName(l)
	desc.Platform = &v1.Platform{OS: "linux", Architecture: arch, Variant: variant}
	return desc, nil
}

// RefName is the name a package's image has in the layout's index.json
// (and in `skopeo inspect oci:STORE:REF`): PACKAGE_VERSION_ARCH with every
// character outside [A-Za-z0-9._-] (an epoch's ':', '+', '~') made '_'.
func RefName(l *convert.Layer) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
				return r
			}
			return '_'
		}, s)
	}
	return clean(l.Package) + "_" + clean(l.Version) + "_" + clean(l.Architecture)
}

// writeBlob writes v as canonical JSON into the blob store.
func (s *Store) writeBlob(mt types.MediaType, v any) (v1.Descriptor, error) {
	return s.layout.PutJSON(mt, v)
}
