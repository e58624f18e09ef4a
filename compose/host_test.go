package compose

import (
	"testing"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// The tests' package sets come from the host's Packages lists and a store
// of their layers kept in the fixtures cache (internal/hosttest), so a test
// does not have to run `deb2fs mirror` first.

func hostIndex(t testing.TB) *index.Index { return hosttest.HostIndex(t) }

func testStore(t testing.TB) *store.Store { return hosttest.CacheStore(t) }

func hostSet(t testing.TB, s *store.Store, req resolve.Request) []index.Entry {
	return hosttest.HostSet(t, s, req)
}

// hostUniverseBase names the minimal base resolve uses on the host's lists.
func hostUniverseBase(t testing.TB) []string {
	t.Helper()
	u, err := hostIndex(t).Universe("")
	if err != nil {
		t.Fatal(err)
	}
	return u.BaseNames(resolve.BaseMinimal)
}
