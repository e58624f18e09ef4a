package mirror

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

func TestParseShard(t *testing.T) {
	for _, bad := range []string{"", "1", "3/3", "-1/2", "a/b", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if s, err := ParseShard("2/5"); err != nil || s != (Shard{2, 5}) || s.String() != "2/5" {
		t.Errorf("ParseShard(2/5) = %v, %v", s, err)
	}
}

// shardPkgs is the sharded runs' archive: the base packages and nine
// more, enough for every shard of three to have work.
func shardPkgs() []tpkg {
	pkgs := append([]tpkg(nil), basePkgs...)
	for i := range 9 {
		pkgs = append(pkgs, tpkg{fmt.Sprintf("extra%d", i), "1.0", "amd64", nil})
	}
	return pkgs
}

// TestMirrorShards: n shards run at once on one store, each converting a
// disjoint share; then one unsharded run converts nothing and publishes an
// index equal to a single run's.
func TestMirrorShards(t *testing.T) {
	pkgs := shardPkgs()
	a := newTestArchive(t)
	a.publish(pkgs, suiteOpts{})
	st := openStore(t)
	const n = 3
	sums := make([]Summary, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := a.options(st, clock())
			o.Shard = Shard{I: i, N: n}
			sums[i], errs[i] = Run(ctx, o)
		}()
	}
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		if sums[i].Published || sums[i].New != sums[i].Packages || sums[i].Shard != fmt.Sprintf("%d/%d", i, n) {
			t.Errorf("shard %d summary %+v", i, sums[i])
		}
		total += sums[i].New
	}
	if total != len(pkgs) {
		t.Errorf("shards converted %d packages in all, want %d", total, len(pkgs))
	}
	if _, err := index.Load(st, index.LatestRef); !errors.Is(err, store.ErrNoRef) {
		t.Errorf("a shard published an index: %v", err)
	}
	final := mustRun(t, a.options(st, clock()))
	if final.New != 0 || final.Unchanged != len(pkgs) || !final.Published {
		t.Errorf("final run %+v, want everything already converted", final)
	}
	single := openStore(t)
	mustRun(t, a.options(single, clock()))
	if got, want := mustLoad(t, st, index.LatestRef), mustLoad(t, single, index.LatestRef); !sameContent(got, want) {
		t.Errorf("sharded index %v differs from a single run's %v", names(got), names(want))
	}

	// Shards share the run lock; an unsharded run is excluded meanwhile.
	unlock, err := st.LockRun(ctx, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	o := a.options(st, clock())
	o.Shard = Shard{I: 1, N: 2}
	if _, err := Run(ctx, o); err != nil {
		t.Errorf("a shard beside another shard: %v", err)
	}
	if _, err := Run(ctx, a.options(st, clock())); !errors.Is(err, store.ErrBusy) {
		t.Errorf("an unsharded run beside a shard: %v, want busy", err)
	}
}
