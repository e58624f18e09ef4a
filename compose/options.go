package compose

import (
	"fmt"
	"net/http"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// DefaultMaxLayers is the default layer budget: what Docker's overlay2 and
// podman accept (about 127 lower layers, research/tools.md) with room to
// spare for layers a user adds on top.
const DefaultMaxLayers = 100

// Options say what to compose.
type Options struct {
	// Packages is the resolved package set. When empty, Request is
	// resolved over Index.
	Packages []index.Entry
	Index    *index.Index
	Request  resolve.Request

	// Store holds the package layers; compose also keeps its base and
	// configure layers, its cache and (by default) the image there.
	Store *store.Store
	// Output is where the image goes; nil is the store (output.Store).
	Output output.Output

	// SourceDateEpoch is the time the image claims (seconds since the
	// epoch): maintainer scripts see it, the configure layer's mtimes are
	// clamped to it and the config's created date is it. Zero means the
	// newest file modification time in the package layers, a function of
	// the inputs.
	SourceDateEpoch int64
	// MaxLayers is the layer budget; 0 means DefaultMaxLayers.
	MaxLayers int
	// Cmd is the image's default command; nil means /bin/bash.
	Cmd []string
	// Config holds the image's other runtime settings (an image
	// definition's environment, entrypoint, user, ports…).
	Config Config
	// Accounts are users and groups made before the packages are
	// configured.
	Accounts configure.Accounts
	// Files make the files layer, above the configure layer; none makes
	// no files layer.
	Files []File
	// Definition names the image definition file the options came from
	// (FILE@sha256:HEX), recorded in imagespec.LabelRequest.
	Definition string
	// WorkDir is where the scratch root is assembled; "" means /dev/shm
	// when it is a tmpfs, else the system's temporary directory.
	WorkDir string
	// Assemble says how the scratch root is materialised; the zero value
	// is overlayfs when possible, extraction otherwise.
	Assemble configure.Assembly
	// NoCache makes compose configure again even when the configure layer
	// of the same inputs is cached (the result replaces the cache entry).
	NoCache bool
	// CheckInstanceState configures twice, with different host names,
	// boot ids, entropy and clocks, and compares the configure layers
	// (see InstanceState): compose fails with an *InstanceStateError when
	// a path differs that no firstboot hook handles. The result is cached
	// with the configure layer.
	CheckInstanceState bool
	// AllowInstanceState makes unknown per-instance state a warning (in
	// Image.InstanceState and the log) instead of an error.
	AllowInstanceState bool
	// Recorded, if set, is recorded in the image's imagespec.LabelRequest
	// instead of the request derived from Request and the options: `deb2fs
	// update --only` resolves a request with pins but records the user's.
	Recorded *imagespec.RecordedRequest
	// LayersFrom, if set, is a registry repository (REGISTRY/REPO, a
	// registry-backed mirror) from which the package layers the store
	// lacks are fetched into it, each checked against its digest.
	LayersFrom string
	// LayersTransport, if set, carries the fetches' HTTP requests.
	LayersTransport http.RoundTripper
	// ScriptTimeout limits each sandbox command (the preinst step, dpkg
	// --configure --pending) in wall-clock time: when it runs out, every
	// process of the sandbox is killed and compose fails naming the step
	// (0: sandbox.DefaultTimeout).
	ScriptTimeout time.Duration
	// Pids and Memory limit the sandbox's processes and memory (0: the
	// sandbox's defaults).
	Pids   int
	Memory int64
	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

// Config is what an image's config says besides its layers and command;
// the zero value says nothing more.
type Config struct {
	// Env is KEY=VALUE pairs after PATH (a PATH here replaces
	// DefaultPath).
	Env []string
	// Entrypoint runs after firstboot's entrypoint, with the command as
	// its arguments.
	Entrypoint []string
	// WorkingDir and User are the command's directory and user.
	WorkingDir, User string
	// ExposedPorts are PORT/PROTO; Volumes are absolute paths.
	ExposedPorts, Volumes []string
	// Labels are the config's labels, beside compose's own (which win).
	Labels map[string]string
	// Annotations annotate the manifest.
	Annotations map[string]string
}

// Image is a composed image.
type Image struct {
	// Manifest is the image manifest's descriptor.
	Manifest v1.Descriptor
	// Config is the config blob's digest.
	Config v1.Hash
	// Layers are the manifest's layers: base, packages (or groups),
	// configure.
	Layers []v1.Descriptor
	// Packages are the image's packages, in layer order.
	Packages []index.Entry
	// Ref is where the image went (output.Sent.Ref).
	Ref string
	// Cached is true when the configure layer came from the cache.
	Cached bool
	// Assembled says how the root was materialised ("overlay" or
	// "extract"); "" when the configure layer came from the cache.
	Assembled string
	// SourceDateEpoch is the time the image claims.
	SourceDateEpoch int64
	// InstanceState is the differential check's result, when it was asked
	// for (it may come from the cache).
	InstanceState *configure.InstanceState
	// Pushed counts what a push to a registry uploaded.
	Pushed output.PushStats
	// Timings break the run down.
	Timings Timings
}

// Timings are the durations of compose's steps.
type Timings struct {
	Resolve           time.Duration // resolving the request over the index
	configure.Timings               // assemble, preinst, configure, capture
	Write             time.Duration // base layer, config, manifest, tag
	Verify            time.Duration // hashing the layer blobs (part of Write)
	Total             time.Duration
}

func (t Timings) String() string {
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return fmt.Sprintf("resolve %s, assemble %s, preinst %s, configure %s, capture %s, write %s (verify %s), total %s",
		r(t.Resolve), r(t.Assemble), r(t.Preinst), r(t.Configure), r(t.Capture), r(t.Write), r(t.Verify), r(t.Total))
}
