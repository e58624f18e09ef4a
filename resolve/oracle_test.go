package resolve

// The oracle tests compare Resolve with apt itself on the host's archive
// state. They need the Debian packages apt and dpkg (apt-get, apt-helper,
// dpkg --print-architecture) and the Packages indices that apt-get update
// leaves under /var/lib/apt/lists. apt runs in simulation mode (-s) with a
// scratch, empty dpkg status and scratch state and cache directories, so it
// reads the host's lists (and sources) but writes nothing outside a
// temporary directory and takes no lock. The host's apt.conf.d is not read,
// so apt's compiled-in defaults apply (Docker images, for one, set
// APT::AutoRemove::SuggestsImportant to false, which changes what apt drops
// as garbage). Without the indices the tests skip, unless
// DEB2FS_REQUIRE_ORACLE=1.

import (
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/internal/apttest"
)

// diffSets compares apt's answer with ours: names only apt installs, names
// only we install, and names with another version.
func diffSets(apt map[string]string, r *Result) (onlyApt, onlyUs, version []string) {
	ours := map[string]string{}
	for _, p := range r.Packages {
		ours[p.Name] = p.Version
		if v, ok := apt[p.Name]; !ok {
			onlyUs = append(onlyUs, p.Name)
		} else if v != p.Version {
			version = append(version, p.Name+" apt="+v+" us="+p.Version)
		}
	}
	for n := range apt {
		if _, ok := ours[n]; !ok {
			onlyApt = append(onlyApt, n)
		}
	}
	sort.Strings(onlyApt)
	sort.Strings(onlyUs)
	sort.Strings(version)
	return
}

var (
	hostUniverse    *Universe
	hostUniverseErr error
)

func needHostUniverse(tb testing.TB) *Universe {
	tb.Helper()
	h := needHost(tb)
	if hostUniverse == nil && hostUniverseErr == nil {
		hostUniverse, hostUniverseErr = NewUniverse(h.arch, h.pkgs)
	}
	if hostUniverseErr != nil {
		tb.Fatal(hostUniverseErr)
	}
	return hostUniverse
}

// compareWithApt resolves req and asks apt the same question: the base
// names plus the requested ones on its command line, on an empty system.
func compareWithApt(t *testing.T, u *Universe, req Request) *Result {
	t.Helper()
	r, err := u.Resolve(req)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	names := append(u.BaseNames(req.Base), req.Install...)
	apt, err := apttest.Installs(t, u.Arch(), names, req.Recommends)
	if err != nil {
		t.Fatal(err)
	}
	onlyApt, onlyUs, ver := diffSets(apt, r)
	t.Logf("%v (base %d, recommends %v): apt %d, resolve %d", req.Install, len(u.BaseNames(req.Base)), req.Recommends, len(apt), len(r.Packages))
	if len(onlyApt)+len(onlyUs)+len(ver) > 0 {
		t.Errorf("disagreement with apt:\n only apt: %v\n only resolve: %v\n versions: %v", onlyApt, onlyUs, ver)
	}
	return r
}

func TestOracleApt(t *testing.T) {
	u := needHostUniverse(t)
	for _, tc := range []struct {
		name string
		req  Request
		want int // expected size on bookworm (12.x), 0 to skip the check
	}{
		{"nginx+openssh-server", Request{Install: []string{"nginx", "openssh-server"}}, 98},
		{"variant-apt+nginx+openssh-server", Request{Install: []string{"apt", "nginx", "openssh-server"}}, 113},
		{"essential-only", Request{}, 61},
		{"openssh-server", Request{Install: []string{"openssh-server"}}, 0},
		{"nginx", Request{Install: []string{"nginx"}}, 0},
		{"curl", Request{Install: []string{"curl"}}, 0},
		{"python3", Request{Install: []string{"python3"}}, 0},
		{"recommends nginx+openssh-server", Request{Install: []string{"nginx", "openssh-server"}, Recommends: true}, 0},
		{"base-essential nginx+openssh-server", Request{Install: []string{"nginx", "openssh-server"}, Base: BaseEssential}, 106},
		{"base-required nginx", Request{Install: []string{"nginx"}, Base: BaseRequired}, 0},
		{"base-none openssh-server", Request{Install: []string{"openssh-server"}, Base: BaseNone}, 0},
		{"git", Request{Install: []string{"git"}}, 0},
		{"build-essential", Request{Install: []string{"build-essential"}}, 0},
		{"mailutils (virtual mail-transport-agent)", Request{Install: []string{"mailutils"}}, 0},
		{"postgresql", Request{Install: []string{"postgresql"}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // also exercises concurrent Resolve calls on one Universe
			r := compareWithApt(t, u, tc.req)
			if tc.want != 0 && isBookworm(u) && len(r.Packages) != tc.want {
				t.Errorf("got %d packages, research measured %d on bookworm", len(r.Packages), tc.want)
			}
		})
	}
}

// isBookworm tells whether the universe is Debian 12's: the counts the
// research measured only hold there.
func isBookworm(u *Universe) bool {
	p := u.Candidate("base-files")
	return p != nil && strings.HasPrefix(p.Version, "12.")
}

// TestOracleSample compares single-package requests for a random sample of
// the universe with apt: DEB2FS_ORACLE_SAMPLE=N (and optionally
// DEB2FS_ORACLE_SEED, and DEB2FS_ORACLE_RECOMMENDS=1 to follow Recommends)
// turns it on. Requests apt itself cannot satisfy are expected to fail in
// Resolve too.
func TestOracleSample(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DEB2FS_ORACLE_SAMPLE"))
	if n <= 0 {
		t.Skip("set DEB2FS_ORACLE_SAMPLE=N to compare N random packages with apt")
	}
	seed, _ := strconv.ParseInt(os.Getenv("DEB2FS_ORACLE_SEED"), 10, 64)
	u := needHostUniverse(t)
	names := make([]string, 0, len(u.byName))
	for name := range u.byName {
		names = append(names, name)
	}
	sort.Strings(names)
	rng := rand.New(rand.NewSource(seed))
	agree, aptFails, bothFail := 0, 0, 0
	for i := 0; i < n; i++ {
		name := names[rng.Intn(len(names))]
		req := Request{Install: []string{name}, Recommends: os.Getenv("DEB2FS_ORACLE_RECOMMENDS") == "1"}
		r, rerr := u.Resolve(req)
		apt, aerr := apttest.Installs(t, u.Arch(), append(u.BaseNames(req.Base), name), req.Recommends)
		switch {
		case aerr != nil && rerr != nil:
			bothFail++
			continue
		case aerr != nil:
			aptFails++
			t.Errorf("%s: apt fails, Resolve gives %d packages: %v", name, len(r.Packages), firstLine(aerr.Error()))
			continue
		case rerr != nil:
			t.Errorf("%s: apt installs %d packages, Resolve fails: %v", name, len(apt), rerr)
			continue
		}
		onlyApt, onlyUs, ver := diffSets(apt, r)
		if len(onlyApt)+len(onlyUs)+len(ver) > 0 {
			t.Errorf("%s: only apt %v, only resolve %v, versions %v", name, onlyApt, onlyUs, ver)
			continue
		}
		agree++
	}
	t.Logf("sample of %d: %d agree, %d both fail, %d apt-only failures", n, agree, bothFail, aptFails)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// TestOracleAptPin pins an older libssl3 (the universe merges the release
// and the security suite) under curl and checks that apt and Resolve agree,
// whether both install it or both refuse.
func TestOracleAptPin(t *testing.T) {
	u := needHostUniverse(t)
	vs := u.Versions("libssl3")
	if len(vs) < 2 {
		t.Skip("libssl3 has a single version in this universe")
	}
	pin := "libssl3=" + vs[len(vs)-1].Version
	req := Request{Install: []string{"curl", pin}}
	r, rerr := u.Resolve(req)
	apt, aerr := apttest.Installs(t, u.Arch(), append(u.BaseNames(req.Base), req.Install...), false)
	switch {
	case rerr != nil && aerr != nil:
		t.Logf("%s: both refuse; resolve: %v", pin, rerr)
	case rerr != nil:
		t.Fatalf("%s: apt installs %d packages, Resolve fails: %v", pin, len(apt), rerr)
	case aerr != nil:
		t.Fatalf("%s: apt fails, Resolve gives %d packages: %v", pin, len(r.Packages), firstLine(aerr.Error()))
	default:
		onlyApt, onlyUs, ver := diffSets(apt, r)
		t.Logf("%s: apt %d, resolve %d", pin, len(apt), len(r.Packages))
		if len(onlyApt)+len(onlyUs)+len(ver) > 0 {
			t.Errorf("only apt %v, only resolve %v, versions %v", onlyApt, onlyUs, ver)
		}
		if got := r.Lookup("libssl3"); got == nil || got.Version != vs[len(vs)-1].Version {
			t.Errorf("libssl3 is %v, want the pinned %s", got, vs[len(vs)-1].Version)
		}
	}
}
