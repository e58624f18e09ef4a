package mirror

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// runner holds one run's state.
type runner struct {
	o          Options
	st         *store.Store
	client     *archive.Client
	tgt        target
	remote     *remoteTarget // tgt, when it is a registry
	report     Reporter
	downloaded atomic.Int64
	stored     atomic.Int64

	phase      string // the phase being timed
	phaseStart time.Time
	phases     map[string]float64
}

// enter ends the timing of the current phase and starts name's ("" ends
// the last).
func (r *runner) enter(name string) {
	now := time.Now()
	if r.phase != "" {
		if r.phases == nil {
			r.phases = map[string]float64{}
		}
		r.phases[r.phase] += now.Sub(r.phaseStart).Seconds()
	}
	r.phase, r.phaseStart = name, now
}

func (r *runner) key(p *archive.Package) convert.Key {
	return convert.Key{DebSHA256: p.SHA256, Compression: r.o.Compression}
}

// Run mirrors the archive into o.Store:
//
//  1. take the store's run lock (one run per store; o.Wait waits);
//  2. fetch and verify every suite's Release; when the Packages files they
//     list, the scope and the formats are those of the latest index, stop:
//     the store is up to date;
//  3. fetch and verify the Packages indexes, merge the suites (highest
//     version wins) and pick the scope;
//  4. look each package's layer up by its .deb's SHA256; download the
//     missing .debs (verified) and convert them, overlapping the two;
//  5. build the index and publish it atomically, with a dated copy.
//
// Any verification failure fails the run and publishes nothing. A package
// that fails to download or convert fails the run (error matching
// ErrFailed) unless o.Partial. The layers converted before a failure or a
// kill stay in the store, so the next run resumes where this one stopped;
// the previously published index stays valid throughout.
func Run(ctx context.Context, o Options) (Summary, error) {
	start := time.Now()
	sum := Summary{Started: start}
	if o.Store == nil {
		return sum, errors.New("mirror: no store")
	}
	if !o.All && len(o.Packages) == 0 {
		return sum, errors.New("mirror: nothing to mirror: name packages (--packages) or pass --all")
	}
	if o.Compression == "" {
		o.Compression = convert.Gzip
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Report == nil {
		o.Report = nopReporter{}
	}
	r := &runner{o: o, st: o.Store, client: o.Client, report: o.Report}
	if r.client == nil {
		r.client = archive.New()
	}
	r.tgt = layoutTarget{o.Store}
	if o.Remote != nil {
		r.remote = o.Remote.target(o.Store, o.Downloads, func() { r.report.Step("push", 0) })
		r.tgt = r.remote
	}
	sum, err := r.run(ctx, sum)
	r.enter("")
	sum.Phases = r.phases
	sum.BytesDownloaded = r.downloaded.Load()
	sum.BytesStored += r.stored.Load()
	sum.Duration = time.Since(start)
	sum.Seconds = sum.Duration.Seconds()
	return sum, err
}

func (r *runner) run(ctx context.Context, sum Summary) (Summary, error) {
	sharded := r.o.Shard.N > 1
	sum.Shard = r.o.Shard.String()
	unlock, err := r.st.LockRun(ctx, r.o.Wait, sharded)
	if err != nil {
		return sum, err
	}
	defer unlock()
	if !sharded {
		// Partial downloads, and the directories of shards (none runs
		// while this run holds the lock exclusively).
		if err := cleanDownloads(downloadDir(r.st, Shard{}), nil); err != nil {
			return sum, fmt.Errorf("mirror: %w", err)
		}
	}

	r.enter("sources")
	r.report.Phase("sources", 0)
	srcs, err := sources(&r.o)
	if err != nil {
		return sum, fmt.Errorf("mirror: %w", err)
	}
	prev, prevDigest, err := r.tgt.latest(ctx)
	if err != nil {
		r.report.Warn(fmt.Sprintf("latest index of %s unreadable, rebuilding it: %v", r.tgt, err))
		prev = nil
	}
	if prev != nil && !r.o.Force {
		rels, err := releases(ctx, r.client, srcs)
		if err != nil && errors.Is(err, archive.ErrVerification) {
			return sum, fmt.Errorf("mirror: %w", err)
		}
		if err == nil && inputDigest(&r.o, srcs, rels) == prev.Input && len(prev.Missing) == 0 && r.tgt.complete(prev) {
			sum.UpToDate = true
			sum.Ref, sum.DatedRef, sum.Index = index.LatestRef, index.DatedRef(prev.Created), prevDigest
			sum.Packages = len(prev.Packages)
			sum.Unchanged = len(prev.Packages)
			// A run killed after publishing to the registry, or one of
			// another work store, left this work store without the index.
			r.copyLocal()
			return sum, nil
		}
	}

	r.enter("load")
	r.report.Phase("load", 0)
	snap, err := r.client.Load(ctx, srcs, r.o.Strict)
	if err != nil {
		return sum, fmt.Errorf("mirror: %w", err)
	}
	for _, e := range snap.Skipped {
		sum.Skipped = append(sum.Skipped, e.Error())
		r.report.Warn("skipped: " + e.Error())
	}
	merged, err := snap.Merge()
	if err != nil {
		return sum, fmt.Errorf("mirror: %w", err)
	}
	order := ArchiveOrder(snap.Indexes...)
	pkgs, err := scope(&r.o, merged, order, binaryArchs(srcs))
	if err != nil {
		return sum, fmt.Errorf("mirror: %w", err)
	}
	if sharded {
		pkgs = slices.DeleteFunc(slices.Clone(pkgs), func(p *archive.Package) bool { return !r.o.Shard.owns(p.SHA256) })
	}
	sum.Packages = len(pkgs)

	// The diff: what the target has is found by the .deb's SHA256; what
	// only the work store has (a registry target) is pushed.
	recs, err := r.tgt.published(ctx, pkgs, r.key)
	if err != nil {
		return sum, fmt.Errorf("mirror: %w", err)
	}
	var need []*archive.Package
	var needAt []int
	var toPush []*store.Record
	for i, p := range pkgs {
		if recs[i] != nil {
			sum.Unchanged++
			continue
		}
		if _, local := r.tgt.(layoutTarget); !local {
			rec, ok, err := r.st.LookupRecord(r.key(p))
			if err != nil {
				return sum, fmt.Errorf("mirror: store lookup %s: %w", p.ID(), err)
			}
			if ok {
				recs[i] = rec
				toPush = append(toPush, rec)
				sum.Unchanged++
				continue
			}
		}
		need = append(need, p)
		needAt = append(needAt, i)
	}
	keep := map[string]bool{}
	for _, p := range need {
		keep[p.SHA256] = true
	}
	if err := cleanDownloads(downloadDir(r.st, r.o.Shard), keep); err != nil {
		return sum, fmt.Errorf("mirror: %w", err)
	}

	if len(need) > 0 {
		r.enter("fetch+convert")
		r.report.Phase("download", len(need))
		r.report.Phase("convert", len(need))
		outs, err := r.pipeline(ctx, need)
		for j, out := range outs {
			p := need[j]
			switch {
			case out.err != nil:
				sum.Failed++
				sum.Failures = append(sum.Failures, Failure{Package: p.ID(), Error: out.err.Error()})
			case out.cached:
				recs[needAt[j]] = out.rec
				toPush = append(toPush, out.rec)
				sum.Unchanged++
			default:
				recs[needAt[j]] = out.rec
				toPush = append(toPush, out.rec)
				sum.New++
			}
		}
		if err != nil {
			return sum, fmt.Errorf("mirror: nothing published: %w", err)
		}
		if sum.Failed > 0 && !r.o.Partial && !sharded {
			return sum, fmt.Errorf("mirror: nothing published: %d of %d packages failed (first: %s: %s): %w",
				sum.Failed, len(pkgs), sum.Failures[0].Package, sum.Failures[0].Error, ErrFailed)
		}
	}

	if _, local := r.tgt.(layoutTarget); !local && len(toPush) > 0 {
		r.enter("push")
		r.report.Phase("push", len(toPush))
		if err := r.tgt.push(ctx, toPush); err != nil {
			return sum, fmt.Errorf("mirror: nothing published: %w", err)
		}
		sum.Pushed = len(toPush)
	}

	if sharded {
		// The shard's share is in the store; an unsharded run publishes.
		if sum.Failed > 0 {
			return sum, fmt.Errorf("mirror: shard %s: %d of %d packages failed (first: %s: %s): %w",
				r.o.Shard, sum.Failed, len(pkgs), sum.Failures[0].Package, sum.Failures[0].Error, ErrFailed)
		}
		return sum, nil
	}

	r.enter("publish")
	r.report.Phase("publish", 0)
	ix := r.index(snap, srcs, pkgs, order, recs)
	for _, f := range sum.Failures {
		ix.Missing = append(ix.Missing, f.Package)
	}
	var keys []convert.Key
	for i, p := range pkgs {
		if recs[i] != nil {
			keys = append(keys, r.key(p))
		}
	}
	md, n, err := r.tgt.publish(ctx, ix, keys)
	if err != nil {
		return sum, fmt.Errorf("mirror: %w", err)
	}
	sum.Published = true
	sum.Ref, sum.DatedRef, sum.Index = index.LatestRef, index.DatedRef(ix.Created), md.Digest.String()
	sum.BytesStored += n
	if r.remote != nil {
		crash(crashPublishLocal)
		r.copyLocal()
	}
	if r.o.Keep > 0 {
		// The new index is published whatever happens here.
		if sum.Pruned, err = r.tgt.prune(ctx, r.o.Keep); err != nil {
			r.report.Warn(fmt.Sprintf("pruning old index copies: %v", err))
		}
		if r.remote != nil {
			if _, err := pruneLayout(r.st, r.o.Keep); err != nil {
				r.report.Warn(fmt.Sprintf("pruning old index copies in the work store %s: %v", r.st.Dir(), err))
			}
		}
	}
	if sum.Failed > 0 {
		return sum, fmt.Errorf("mirror: published without %d failed packages (first: %s: %s): %w",
			sum.Failed, sum.Failures[0].Package, sum.Failures[0].Error, ErrFailed)
	}
	return sum, nil
}

// copyLocal lists the registry's latest index in the work store too (see
// remoteTarget.copyLocal), after it is published there: the registry is
// the source of truth. A failure is a warning: the index is published, and
// the next run (even an up-to-date one) lists it again.
func (r *runner) copyLocal() {
	if r.remote == nil {
		return
	}
	if err := r.remote.copyLocal(); err != nil {
		r.report.Warn(fmt.Sprintf("the index is published to %s but could not be listed in the work store %s: %v", r.remote, r.st.Dir(), err))
	}
}

// index builds the index of the mirrored packages (those with a record),
// each entry with its name's place in order (ArchiveOrder of the snapshot).
func (r *runner) index(snap *archive.Snapshot, srcs []aptsources.Source, pkgs []*archive.Package, order map[string]int, recs []*store.Record) *index.Index {
	ix := &index.Index{
		Format:  index.FormatVersion,
		Created: r.o.Now().UTC().Truncate(time.Second),
		Scope:   scopeNames(&r.o),
		Input:   inputDigest(&r.o, srcs, snap.Releases),
	}
	var origin map[*archive.Release]int
	ix.Origins, origin = OriginsOf(snap.Releases, srcs, 0)
	for i, p := range pkgs {
		rec := recs[i]
		if rec == nil {
			continue
		}
		e := EntryIn(p, order)
		e.Origin = origin[p.Release]
		e.Layer = LayerOf(rec)
		ix.Packages = append(ix.Packages, e)
	}
	return ix
}

// OriginsOf are the index origins of a snapshot's releases, read from
// srcs (the components each was read with), and the number of each
// release's origin, counted from first (the origins an index has before).
func OriginsOf(rels []*archive.Release, srcs []aptsources.Source, first int) ([]index.Origin, map[*archive.Release]int) {
	var out []index.Origin
	at := map[*archive.Release]int{}
	for _, rel := range rels {
		at[rel] = first + len(out)
		var comps []string
		for _, s := range srcs {
			if s.URI != rel.URI || !slices.Contains(s.Suites, rel.Dist) {
				continue
			}
			for _, c := range s.Components {
				if !slices.Contains(comps, c) {
					comps = append(comps, c)
				}
			}
		}
		out = append(out, index.Origin{
			Archive: rel.URI, Codename: rel.Codename, Suite: rel.Suite, Components: comps,
			Date: rel.Date.UTC(), Signer: rel.Signer().Fingerprint,
		})
	}
	return out, at
}

// LayerOf is the index's view of a layer record of the store.
func LayerOf(rec *store.Record) index.Layer {
	return index.Layer{
		Digest: rec.Digest, DiffID: rec.DiffID, Size: rec.Size, MediaType: rec.MediaType,
		Manifest: rec.Manifest.Digest, Format: rec.Format,
	}
}
