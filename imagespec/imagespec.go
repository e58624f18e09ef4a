// Package imagespec is the vocabulary of deb2fs's images: annotation and
// label keys, layer kinds, the recorded compose request.
//
// Every writer (convert, store, mirror, compose) and every reader
// (inspect, update) spells a key through this package, so a key is
// declared once. It imports nothing of deb2fs: it sits at the bottom.
// docs/layer-format.md, docs/compose.md and docs/inspect.md say where each
// key is set.
package imagespec

import (
	"encoding/json"
	"fmt"
)

// Keys the OCI image specification defines, as deb2fs sets them.
const (
	// AnnotationRefName names an entry of an OCI layout's index.json: a
	// package image's PACKAGE_VERSION_ARCH, a composed image's tag, a
	// mirror index's ref (what `skopeo inspect oci:DIR:REF` selects on).
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationCreated is a mirror index's creation time (RFC 3339), on
	// its manifest and index.json entries.
	AnnotationCreated = "org.opencontainers.image.created"
	// AnnotationTitle is the file name of a mirror index's blob, on its
	// layer descriptor.
	AnnotationTitle = "org.opencontainers.image.title"
)

// Annotations of a package layer (convert), on the layer descriptor, the
// package image's manifest and its index.json entry; compose copies them
// onto the descriptors of the package layers of an image. The package
// image's config carries them as labels too.
const (
	// AnnotationPackage is the package's name.
	AnnotationPackage = "org.deb2fs.package"
	// AnnotationVersion is the package's version.
	AnnotationVersion = "org.deb2fs.version"
	// AnnotationArchitecture is the package's Debian architecture (all
	// kept).
	AnnotationArchitecture = "org.deb2fs.architecture"
	// AnnotationSource is the package's source, "NAME" or
	// "NAME (VERSION)" as the Source field says it.
	AnnotationSource = "org.deb2fs.source"
	// AnnotationDebSHA256 is the SHA256 of the .deb, hex.
	AnnotationDebSHA256 = "org.deb2fs.deb.sha256"
	// AnnotationFormat is the package-layer format version
	// (convert.FormatVersion), on package layers only.
	AnnotationFormat = "org.deb2fs.layer.format"
)

// Annotations of a group layer: several packages merged into one layer
// when an image would pass its layer budget (compose).
const (
	// AnnotationGroup is the group's name.
	AnnotationGroup = "org.deb2fs.group"
	// AnnotationGroupPackages lists the group's members, NAME=VERSION,
	// comma separated, in layer order: the same key as the config label
	// LabelPackages, on a layer descriptor.
	AnnotationGroupPackages = LabelPackages
	// AnnotationGroupMembers is a JSON array of the members, each with
	// package, version, architecture, source and debSHA256.
	AnnotationGroupMembers = "org.deb2fs.group.members"
)

// AnnotationLayerKind annotates a layer compose adds that is neither the
// base, a package (or group) nor the configure layer; its value is a
// layer kind, today only LayerKindFiles.
const AnnotationLayerKind = "org.deb2fs.layer.kind"

// Layer kinds: what each layer of a composed image is. Only
// LayerKindFiles is written (as AnnotationLayerKind); a reader knows the
// others from the layer's other annotations and its place.
const (
	// LayerKindBase is compose's base layer: the first, unannotated.
	LayerKindBase = "base"
	// LayerKindPackage is one package's own layer (AnnotationPackage).
	LayerKindPackage = "package"
	// LayerKindGroup is a group layer (AnnotationGroupPackages).
	LayerKindGroup = "group"
	// LayerKindConfigure is compose's configure layer: the last
	// unannotated one.
	LayerKindConfigure = "configure"
	// LayerKindFiles is an image definition's files.
	LayerKindFiles = "files"
	// LayerKindOther is what a reader calls any other layer (of an image
	// deb2fs did not compose, say).
	LayerKindOther = "other"
)

// Config labels of a composed image.
const (
	// LabelPackages lists the image's packages, NAME=VERSION, comma
	// separated, in layer order.
	LabelPackages = "org.deb2fs.packages"
	// LabelHooks lists the firstboot hooks the image carries, comma
	// separated, in the order they run.
	LabelHooks = "org.deb2fs.firstboot.hooks"
	// LabelCompose is compose's format version (compose.FormatVersion);
	// it marks an image deb2fs composed.
	LabelCompose = "org.deb2fs.compose.format"
	// LabelRequest records what the image was composed from, as the JSON
	// of a RecordedRequest: `deb2fs update` composes the same request
	// again against a newer mirror index, so an updated image is the
	// image a fresh compose would give.
	LabelRequest = "org.deb2fs.compose.request"
)

// Annotations of a mirror index artifact (mirror).
const (
	// AnnotationIndexPackages is the number of packages the index lists,
	// on its manifest.
	AnnotationIndexPackages = "org.deb2fs.index.packages"
	// AnnotationIndexInput is the index's Input, on its manifest: a digest
	// of everything the run's result depends on.
	AnnotationIndexInput = "org.deb2fs.index.input"
	// AnnotationMirrorRepository is set on the work store's index.json
	// entries of an index a registry run published (--store REGISTRY/REPO
	// --work DIR): the registry repository, REGISTRY/REPO, that holds the
	// index and its layers.
	AnnotationMirrorRepository = "org.deb2fs.mirror.repository"
)

// RecordedRequest is the request and the options that change an image, as
// recorded in LabelRequest. Zero fields are compose's defaults. The JSON
// is part of the image: its fields and their order must not change.
type RecordedRequest struct {
	// Install are the packages asked for, NAME or NAME=VERSION, in the
	// order given (apt visits them in that order).
	Install []string `json:"install"`
	// Recommends followed Recommends (--install-recommends).
	Recommends bool `json:"recommends,omitempty"`
	// MaxLayers is the layer budget when not compose's default.
	MaxLayers int `json:"maxLayers,omitempty"`
	// SourceDateEpoch is the time asked for; 0 means derived from the layers.
	SourceDateEpoch int64 `json:"sourceDateEpoch,omitempty"`
	// Cmd is the command asked for; nil means the default.
	Cmd []string `json:"cmd,omitempty"`
	// Definition, for an image composed from an image definition file, is
	// FILE@sha256:HEX: its files, accounts and settings are not recorded
	// here, so `deb2fs update` asks for the file.
	Definition string `json:"definition,omitempty"`
}

// Label is r as LabelRequest's value.
func (r *RecordedRequest) Label() string {
	data, _ := json.Marshal(r)
	return string(data)
}

// RequestOf returns the request recorded in a config's labels
// (LabelRequest), or nil when there is none.
func RequestOf(labels map[string]string) (*RecordedRequest, error) {
	s, ok := labels[LabelRequest]
	if !ok {
		return nil, nil
	}
	var r RecordedRequest
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("label %s: %w", LabelRequest, err)
	}
	return &r, nil
}
