package compose

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// edgeRandom is a hand-made package whose postinst leaves per-instance
// state no hook knows: random bytes, the host name and the boot id.
func edgeRandom(t *testing.T, s *store.Store) index.Entry {
	t.Helper()
	deb := fixtures.Deb{
		Control: fixtures.Control("edge-random"),
		ControlFiles: map[string][]byte{"postinst": []byte(`#!/bin/sh
set -e
if [ "$1" = configure ]; then
	mkdir -p /var/lib/edge-random
	head -c 32 /dev/urandom > /var/lib/edge-random/seed
	hostname > /var/lib/edge-random/host
	cat /proc/sys/kernel/random/boot_id > /var/lib/edge-random/boot
	echo constant > /var/lib/edge-random/same
fi
`)},
		Data: fixtures.Tree(fixtures.File("./usr/share/doc/edge-random/README", 0o644, "a test package\n")),
	}
	return handMade(t, s, deb, "edge-random_1.0_all")
}

// The differential check catches a postinst that writes random bytes (and
// the host name, and the boot id) into files; --allow-instance-state makes
// it a warning, from the cached result.
func TestInstanceStateCaught(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	es := append(hostSet(t, s, resolve.Request{Install: []string{"dash"}}), edgeRandom(t, s))
	opts := Options{Packages: es, Store: s, Output: output.Layout{Dir: t.TempDir(), Tag: "edge-random"},
		CheckInstanceState: true, NoCache: true, Logf: t.Logf}
	_, err := Compose(context.Background(), opts)
	var ise *configure.InstanceStateError
	if !errors.As(err, &ise) {
		t.Fatalf("compose with edge-random: %v, want an configure.InstanceStateError", err)
	}
	t.Log(err)
	got := map[string]string{}
	for _, d := range ise.State.Unknown {
		got[d.Path] = d.What
	}
	for _, p := range []string{"var/lib/edge-random/seed", "var/lib/edge-random/host", "var/lib/edge-random/boot"} {
		if got[p] != "content" {
			t.Errorf("%s: %q, want a content difference", p, got[p])
		}
	}
	if len(got) != 3 {
		t.Errorf("unknown state: %v, want exactly the three files", ise.State.Unknown)
	}
	if ise.State.ClockOffset < 1 {
		t.Errorf("the second run started %.2f s after the first, want at least 1", ise.State.ClockOffset)
	}
	for _, want := range []string{"/var/lib/edge-random/seed (content)", "--allow-instance-state"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error message lacks %q", want)
		}
	}

	// Allowed: the image is composed, from the cached layer and result.
	opts.NoCache, opts.AllowInstanceState = false, true
	img, err := Compose(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !img.Cached || img.InstanceState == nil || len(img.InstanceState.Unknown) != 3 {
		t.Errorf("allowed: cached %v, state %+v", img.Cached, img.InstanceState)
	}
}

// On nginx and openssh-server the check finds only what the hooks handle:
// the ssh host keys.
func TestInstanceStateNginxOpenSSH(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"nginx", "openssh-server"}}
	opts := Options{Packages: hostSet(t, s, req), Request: req, Store: s, Output: output.Layout{Dir: t.TempDir()},
		CheckInstanceState: true, NoCache: true}
	img, err := Compose(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	st := img.InstanceState
	if st == nil {
		t.Fatal("no instance state result")
	}
	var keys int
	for _, d := range st.Handled {
		t.Logf("handled: %s", d)
		if d.Hook == "" {
			t.Errorf("%s: handled by no named hook", d)
		}
		if strings.HasPrefix(d.Path, "etc/ssh/ssh_host_") {
			keys++
		}
	}
	// The openssh-server hook's placeholders keep the postinst from making
	// host keys at all (firstboot.Prepare): none differs, none is made.
	if keys != 0 {
		t.Errorf("%d ssh host key files differ, want none: the placeholders should have kept ssh-keygen from running", keys)
	}
	key := cacheKey(index.NativeArch(opts.Packages), img.Layers[0].Digest, canonicalOrder(opts.Packages), 0, configure.Accounts{})
	if log, err := os.ReadFile(strings.TrimSuffix(cachePath(s, key), ".json") + ".log"); err != nil || !strings.Contains(string(log), "Setting up openssh-server") || strings.Contains(string(log), "Creating SSH2") {
		t.Errorf("the postinst made host keys (or no log: %v):\n%s", err, log)
	}
	if len(st.Unknown) != 0 {
		t.Errorf("unknown per-instance state: %v", st.Unknown)
	}
	// Cached: the same result, no configure run.
	opts.NoCache = false
	again, err := Compose(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cached || again.InstanceState == nil || len(again.InstanceState.Handled) != len(st.Handled) {
		t.Errorf("second compose: cached %v, state %+v", again.Cached, again.InstanceState)
	}
	if again.Manifest.Digest != img.Manifest.Digest {
		t.Errorf("manifest %s, then %s", img.Manifest.Digest, again.Manifest.Digest)
	}
}
