package convert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/dpkg"
	"github.com/deb2fs/deb2fs/imagespec"
)

// FormatVersion is the version of the package-layer format. It is part of
// every layer's identity: bump it whenever the bytes a .deb converts to
// change (path rules, metadata, compressor settings, library upgrades that
// change compressed output).
const FormatVersion = 1

// Compression is a layer's compression.
type Compression string

const (
	Gzip Compression = "gzip" // OCI tar+gzip, the default: every runtime reads it
	Zstd Compression = "zstd" // OCI tar+zstd
)

// MediaType is the OCI media type of a layer with this compression.
func (c Compression) MediaType() types.MediaType {
	if c == Zstd {
		return types.OCILayerZStd
	}
	return types.OCILayer
}

// ParseCompression parses a --compression flag value.
func ParseCompression(s string) (Compression, error) {
	switch Compression(s) {
	case "", Gzip:
		return Gzip, nil
	case Zstd:
		return Zstd, nil
	}
	return "", fmt.Errorf("unknown compression %q (want gzip or zstd)", s)
}

// Options control one conversion.
type Options struct {
	Compression Compression
	XZ          XZDecoder
	// DebSHA256, when set, is the SHA256 the input must have (from an
	// archive's Packages file); a mismatch fails the conversion.
	DebSHA256 string
	// MaxExpandedSize caps the decompressed data.tar, in bytes: a .deb
	// whose data expands beyond it is refused (ErrTooLarge), however
	// small the .deb. 0 means DefaultMaxExpandedSize.
	MaxExpandedSize int64
}

// Layer describes a converted package layer.
type Layer struct {
	Package      string `json:"package"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	MultiArch    string `json:"multiArch,omitempty"`
	Source       string `json:"source"`
	DebSHA256    string `json:"debSHA256"`
	Format       int    `json:"format"`

	Digest    v1.Hash         `json:"digest"` // of the compressed blob
	DiffID    v1.Hash         `json:"diffID"` // of the uncompressed tar
	Size      int64           `json:"size"`   // of the compressed blob
	MediaType types.MediaType `json:"mediaType"`
}

// Annotations returns the layer's OCI annotations (imagespec's package
// layer keys).
func (l Layer) Annotations() map[string]string {
	return map[string]string{
		imagespec.AnnotationPackage:      l.Package,
		imagespec.AnnotationVersion:      l.Version,
		imagespec.AnnotationArchitecture: l.Architecture,
		imagespec.AnnotationSource:       l.Source,
		imagespec.AnnotationDebSHA256:    l.DebSHA256,
		imagespec.AnnotationFormat:       fmt.Sprint(l.Format),
	}
}

// Convert reads one .deb from r and writes its package layer, compressed,
// to w, in one pass. Nothing is written to disk besides w. On error, what
// was written to w must be discarded; the error names the member and entry
// at fault.
func Convert(ctx context.Context, r io.Reader, w io.Writer, opts Options) (*Layer, error) {
	if opts.Compression == "" {
		opts.Compression = Gzip
	}
	debHash := sha256.New()
	ar, err := newArReader(io.TeeReader(r, debHash))
	if err != nil {
		return nil, err
	}
	out, err := NewLayerWriter(w, opts.Compression)
	if err != nil {
		return nil, err
	}
	c := &converter{ctx: ctx, opts: opts, out: out}
	if err := c.readMembers(ar); err != nil {
		return nil, err
	}
	if err := ar.drain(); err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(debHash.Sum(nil))
	if opts.DebSHA256 != "" && !strings.EqualFold(opts.DebSHA256, sum) {
		return nil, fmt.Errorf("SHA256 mismatch: expected %s, got %s", opts.DebSHA256, sum)
	}
	if err := c.writeDatabase(); err != nil {
		return nil, err
	}
	digest, diffID, size, err := out.Close()
	if err != nil {
		return nil, err
	}
	ctl := c.control
	source := ctl.Get("Source")
	if source == "" {
		source = ctl.Get("Package")
	}
	source, _, _ = strings.Cut(source, " ")
	return &Layer{
		Package:      ctl.Get("Package"),
		Version:      ctl.Get("Version"),
		Architecture: ctl.Get("Architecture"),
		MultiArch:    ctl.Get("Multi-Arch"),
		Source:       source,
		DebSHA256:    sum,
		Format:       FormatVersion,
		Digest:       digest,
		DiffID:       diffID,
		Size:         size,
		MediaType:    opts.Compression.MediaType(),
	}, nil
}

// epoch is the modification time of every directory in every layer, so
// that a directory shared by many packages looks the same in each of them
// and layer order cannot change the composed result.
var epoch = time.Unix(0, 0).UTC()

// controlFile is one member of control.tar.
type controlFile struct {
	name  string
	data  []byte
	mode  int64
	mtime time.Time
}

// converter holds the state of one conversion.
type converter struct {
	ctx  context.Context
	opts Options
	out  *LayerWriter

	control   dpkg.Paragraph
	ctlFiles  []controlFile // sorted by name, without "control"
	ctlMTime  time.Time     // mtime of ./control: the time of generated info files
	conffiles []conffileLine
	hasMD5    bool // the package ships md5sums

	list     []string          // var/lib/dpkg/info/PKG.list, original paths, symlinks excepted
	links    []string          // symlinks: dpkg lists them after every other path
	md5sums  []string          // generated md5sums lines when the package has none
	confMD5  map[string]string // conffile path → md5 of its content
	emitted  map[string]byte   // layer path → tar type flag of the entry written
	haveData bool

	controlOnly bool // ReadControl: stop before the data member
}

// ReadControl reads a .deb's control paragraph, checked as Convert checks
// it (dpkg's rules for names, versions, relationship fields), without
// reading its data member.
func ReadControl(ctx context.Context, r io.Reader) (dpkg.Paragraph, error) {
	ar, err := newArReader(r)
	if err != nil {
		return dpkg.Paragraph{}, err
	}
	c := &converter{ctx: ctx, controlOnly: true}
	if err := c.readMembers(ar); err != nil {
		return dpkg.Paragraph{}, err
	}
	return c.control, nil
}
