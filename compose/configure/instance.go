package configure

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/firstboot"
)

// The differential check of per-instance state (Options.CheckInstanceState):
// compose configures the same layers twice, in parallel, and compares the
// two configure layers. The second run differs from the first in its host
// name (CheckHostname instead of Hostname), its boot id, the kernel's
// entropy (both read /dev/urandom and getrandom independently) and its
// clock: its first maintainer script starts checkOffset after the first
// run's. Every path whose layer entry differs is per-instance state; those
// the firstboot hooks remove or empty are handled, the others are reported
// as unknown. SOURCE_DATE_EPOCH is the same in both runs: it is an input
// of the image, not a clock.

// CheckHostname is the host name of the check's second configure run.
const CheckHostname = "deb2fs-check"

// checkOffset is how much later the second run starts its maintainer
// scripts: enough for a time stamp with one-second resolution to differ.
const checkOffset = 2 * time.Second

// InstanceState is the result of the differential check.
type InstanceState struct {
	// Hostnames are the two runs' host names.
	Hostnames [2]string `json:"hostnames"`
	// ClockOffset is how much later (seconds) the second run started its
	// maintainer scripts.
	ClockOffset float64 `json:"clockOffsetSeconds"`
	// Handled are the paths that differed before the firstboot hooks ran
	// and that the hooks remove or empty.
	Handled []StateDiff `json:"handled,omitempty"`
	// Unknown are the paths that still differ in the configure layers the
	// two runs would seal: per-instance state no hook handles.
	Unknown []StateDiff `json:"unknown,omitempty"`
}

// StateDiff is one path that differs between the two runs.
type StateDiff struct {
	Path string `json:"path"` // root-relative, as in the layer
	What string `json:"what"` // "content", "mode", "only in the first run", …
	Hook string `json:"hook,omitempty"`
}

func (d StateDiff) String() string {
	s := "/" + d.Path + " (" + d.What
	if d.Hook != "" {
		s += "; hook " + d.Hook
	}
	return s + ")"
}

// InstanceStateError is unknown per-instance state found by the check.
type InstanceStateError struct {
	State *InstanceState
}

func (e *InstanceStateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown per-instance state: %d paths differ between two configure runs (host names %s and %s, %.1f s apart) and no firstboot hook handles them:",
		len(e.State.Unknown), e.State.Hostnames[0], e.State.Hostnames[1], e.State.ClockOffset)
	for _, d := range e.State.Unknown {
		b.WriteString("\n  " + d.String())
	}
	b.WriteString("\n(--allow-instance-state makes this a warning)")
	return b.String()
}

// buildChecked is build with the differential check: two configure runs
// in parallel, compared before and after the hooks; the first run's layer
// is the one kept, and the record carries the result.
func (c *Builder) buildChecked(ctx context.Context, base v1.Descriptor) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(started) }) }
	var firstAt time.Time

	type result struct {
		cf  *configured
		at  time.Time
		err error
	}
	second := make(chan result, 1)
	go func() {
		var r result
		r.cf, r.err = c.configureRoot(ctx, base, configureRun{
			hostname: CheckHostname, bootID: newBootID(), label: "check run: ",
			gate: func() error {
				select {
				case <-started:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case <-time.After(time.Until(firstAt.Add(checkOffset))):
				case <-ctx.Done():
					return ctx.Err()
				}
				r.at = time.Now()
				return nil
			},
		})
		second <- r
	}()
	cf, err := c.configureRoot(ctx, base, configureRun{timings: &c.timings, gate: func() error {
		firstAt = time.Now()
		open()
		return nil
	}})
	if err != nil {
		cancel()
		open()
		if r := <-second; r.err == nil {
			r.cf.remove()
		}
		return nil, err
	}
	defer cf.remove()
	r := <-second
	if r.err != nil {
		return nil, fmt.Errorf("instance-state check (second configure run): %w", r.err)
	}
	defer r.cf.remove()
	c.configureOutput = cf.output

	t := time.Now()
	hs := firstboot.Hooks(c.names())
	var pre, post [2]map[string]layerEntry
	for i, x := range []*configured{cf, r.cf} {
		if err := removeTransient(x.root); err != nil {
			return nil, err
		}
		if pre[i], err = summarise(x); err != nil {
			return nil, err
		}
		if _, err := firstboot.Apply(x.root, hs); err != nil {
			return nil, err
		}
		if post[i], err = summarise(x); err != nil {
			return nil, err
		}
	}
	rec, err := c.capture(cf)
	if err != nil {
		return nil, err
	}
	state := &InstanceState{Hostnames: [2]string{Hostname, CheckHostname}, ClockOffset: r.at.Sub(firstAt).Seconds()}
	state.Unknown = compareLayers(post[0], post[1])
	unknown := map[string]bool{}
	for _, d := range state.Unknown {
		unknown[d.Path] = true
	}
	for _, d := range compareLayers(pre[0], pre[1]) {
		if !unknown[d.Path] {
			d.Hook = firstboot.Covering(hs, d.Path)
			state.Handled = append(state.Handled, d)
		}
	}
	rec.InstanceState = state
	c.timings.Capture = time.Since(t)
	c.logf("instance-state check: %d paths differ, %d handled by the hooks, %d unknown (second run %.1f s later, host name %s)",
		len(state.Handled)+len(state.Unknown), len(state.Handled), len(state.Unknown), state.ClockOffset, CheckHostname)
	return rec, nil
}

// newBootID is a random boot id, formatted as the kernel's.
func newBootID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// layerEntry is what a configure layer records of one path.
type layerEntry struct {
	typ        byte
	mode       int64
	uid, gid   int
	link       string
	mtime      int64
	xattrs     string
	size       int64
	contentSum [32]byte
}

// summarise captures the configure layer a configured root would give,
// as it stands, and returns its entries by path: the same writeChanges
// that writes the real layer, read back instead of stored.
func summarise(cf *configured) (map[string]layerEntry, error) {
	changes, err := rootfs.Diff(cf.root, cf.before)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, _, err := rootfs.WriteChanges(pw, cf.root, changes, time.Unix(cf.sde, 0), cf.ids)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	zr, err := gzip.NewReader(pr)
	if err != nil {
		return nil, err
	}
	out := map[string]layerEntry{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e := layerEntry{typ: h.Typeflag, mode: h.Mode, uid: h.Uid, gid: h.Gid, link: h.Linkname,
			mtime: h.ModTime.Unix(), size: h.Size, xattrs: fmt.Sprint(h.PAXRecords)}
		hash := sha256.New()
		if _, err := io.Copy(hash, tr); err != nil {
			return nil, err
		}
		copy(e.contentSum[:], hash.Sum(nil))
		out[strings.TrimSuffix(h.Name, "/")] = e
	}
}

// compareLayers lists the paths whose entries differ between two
// configure layers, sorted, with what differs.
func compareLayers(a, b map[string]layerEntry) []StateDiff {
	var out []StateDiff
	for p, ea := range a {
		eb, ok := b[p]
		if !ok {
			out = append(out, StateDiff{Path: p, What: "only in the first run"})
			continue
		}
		if what := entryDiff(ea, eb); what != "" {
			out = append(out, StateDiff{Path: p, What: what})
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, StateDiff{Path: p, What: "only in the second run"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// entryDiff names the fields in which two entries differ, or "".
func entryDiff(a, b layerEntry) string {
	var what []string
	add := func(differ bool, name string) {
		if differ {
			what = append(what, name)
		}
	}
	add(a.typ != b.typ, "type")
	add(a.contentSum != b.contentSum || a.size != b.size, "content")
	add(a.link != b.link, "link target")
	add(a.mode != b.mode, "mode")
	add(a.uid != b.uid || a.gid != b.gid, "owner")
	add(a.mtime != b.mtime, "mtime")
	add(a.xattrs != b.xattrs, "xattrs")
	return strings.Join(what, ", ")
}

// Verdict fails on unknown per-instance state unless it is
// allowed, in which case it logs a warning per path.
func (c *Builder) Verdict(st *InstanceState) error {
	if len(st.Unknown) == 0 {
		return nil
	}
	if !c.opts.AllowInstanceState {
		return &InstanceStateError{State: st}
	}
	for _, d := range st.Unknown {
		c.logf("warning: unknown per-instance state (allowed): %s", d)
	}
	return nil
}
