package configure

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/firstboot"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/deb2fs/deb2fs/store"
)

// transient are files that configure leaves behind and that change from
// run to run or only record the run itself: logs, backups of the previous
// database state, caches. They are removed before the configure layer is
// captured (globs relative to the root).
var transient = []string{
	"var/log/dpkg.log",
	"var/log/alternatives.log",
	"var/log/apt/*",
	"var/log/bootstrap.log",
	"var/lib/dpkg/*-old",
	"var/cache/debconf/*-old",
	"var/cache/ldconfig/aux-cache",
	"var/lib/dpkg/triggers/*-old",
	policyRCDPath,
}

// build makes the configure layer: it materialises the union of base and
// package layers in a scratch root, configures it and writes the
// difference as a blob into the store. With Options.CheckInstanceState it
// configures a second root too and compares them (buildChecked).
func (c *Builder) build(ctx context.Context, base v1.Descriptor) (*Result, error) {
	if c.opts.CheckInstanceState {
		return c.buildChecked(ctx, base)
	}
	cf, err := c.configureRoot(ctx, base, configureRun{timings: &c.timings})
	if err != nil {
		return nil, err
	}
	defer cf.remove()
	c.configureOutput = cf.output
	t := time.Now()
	if err := removeTransient(cf.root); err != nil {
		return nil, err
	}
	if _, err := firstboot.Apply(cf.root, firstboot.Hooks(c.names())); err != nil {
		return nil, err
	}
	rec, err := c.capture(cf)
	if err != nil {
		return nil, err
	}
	c.timings.Capture = time.Since(t)
	return rec, nil
}

// configured is a scratch root after dpkg --configure --pending, before
// anything is removed from it.
type configured struct {
	*scratch
	before map[string]rootfs.FileState // the union of the layers, before any script ran
	sde    int64
	output []byte      // what dpkg printed
	ids    sandbox.IDs // the sandbox's, which own the root's files
}

// configureRun is what sets one configure run apart from another.
type configureRun struct {
	hostname string   // the sandbox's host name; "" means Hostname
	bootID   string   // the boot id scripts see; "" leaves the kernel's
	timings  *Timings // where the step times go; nil: nowhere
	// gate, if set, is called right before the first maintainer script;
	// an error stops the run.
	gate func() error
	// label prefixes the log lines.
	label string
}

// scratch is one configure run's work area: a directory holding the root
// the scripts see and, when the root is an overlayfs mount, its upper and
// work directories.
type scratch struct {
	dir     string
	root    string // the assembled root, through the sandbox once it runs
	overlay bool   // root is an overlayfs over lowers
	lowers  []string
	box     *sandbox.Sandbox
}

// remove stops the sandbox (its mounts go with it) and deletes the work
// area. A work area of a deb2fs from before the sandbox had its overlay
// mounted at root/: one that cannot be unmounted is left alone (never
// deleted through a live mount).
func (s *scratch) remove() {
	if s.box != nil {
		s.box.Close()
		s.box = nil
	}
	if rootfs.Unmount(filepath.Join(s.dir, "root")) == nil {
		os.RemoveAll(s.dir)
	}
}

// configureRoot assembles the layers in a new scratch root and runs every
// preinst and dpkg --configure --pending in it. The caller removes the
// work area (remove); on error it is removed already.
func (c *Builder) configureRoot(ctx context.Context, base v1.Descriptor, run configureRun) (_ *configured, err error) {
	tm := run.timings
	if tm == nil {
		tm = &Timings{}
	}
	work := c.opts.WorkDir
	if work == "" {
		work = DefaultWorkDir()
	}
	RemoveStaleRoots(work)
	dir, err := os.MkdirTemp(work, fmt.Sprintf("%s%d-", RootPrefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	sc := &scratch{dir: dir}
	defer func() {
		if err != nil {
			sc.remove()
		}
	}()
	// Assemble, and start the sandbox over the root.
	t := time.Now()
	a, err := c.assemble(sc, base, run)
	if err != nil {
		return nil, err
	}
	root := sc.root
	assembled := time.Since(t)
	before, err := rootfs.Snapshot(root)
	if err != nil {
		return nil, err
	}
	// Where packages ship one path, leave it as dpkg would: the configure
	// layer carries what differs from the union of the layers.
	if err := c.applyTakeovers(root, a.takeovers); err != nil {
		return nil, err
	}
	tm.Assemble = time.Since(t)
	how := "extract"
	if sc.overlay {
		how = "overlay"
	}
	c.assembly = how
	c.logf("%sassembled %d layers in %s (%s %s, snapshot of %d paths %s)", run.label, len(c.pkgs)+1, tm.Assemble.Round(time.Millisecond),
		how, assembled.Round(time.Millisecond), len(before), (tm.Assemble - assembled).Round(time.Millisecond))

	sde := c.opts.SourceDateEpoch
	if sde == 0 {
		sde = a.newest.Unix()
	}

	// Preinst.
	if _, err := mergeStatus(root); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, policyRCDPath), []byte(policyRCD), 0o755); err != nil {
		return nil, err
	}
	if err := firstboot.Prepare(root, firstboot.Hooks(c.names())); err != nil {
		return nil, err
	}
	order, err := scriptOrder(c.pkgs, c.arch)
	if err != nil {
		return nil, err
	}
	if run.gate != nil {
		if err := run.gate(); err != nil {
			return nil, err
		}
	}
	sb := &scriptSandbox{box: sc.box, root: root, env: baseEnv(sde), logf: c.logf}
	hasPreinst := func(e *index.Entry) bool {
		_, err := os.Lstat(filepath.Join(root, "var/lib/dpkg/info", infoName(e)+".preinst"))
		return err == nil
	}
	var out []byte
	n, accounted := 0, false
	for _, st := range order.stages(hasPreinst) {
		t = time.Now()
		k, err := runPreinsts(ctx, sb, st.preinst, c.versionOf("dpkg"))
		if err != nil {
			return nil, err
		}
		n += k
		tm.Preinst += time.Since(t)
		if !accounted && !c.opts.Accounts.Empty() {
			if err := c.addAccounts(ctx, sb, root, c.opts.Accounts); err != nil {
				return nil, err
			}
		}
		accounted = true
		t = time.Now()
		o, err := runConfigure(ctx, sb, st.configure)
		if err != nil {
			return nil, err
		}
		out = append(out, o...)
		tm.Configure += time.Since(t)
		if len(st.configure) > 0 {
			c.logf("%sconfigured %d packages (the Essential set, %s's Pre-Depends and their dependencies) before %s's preinst",
				run.label, len(st.configure), st.waiting.Package, st.waiting.Package)
		}
	}
	c.logf("%sran %d preinst scripts in %s", run.label, n, tm.Preinst.Round(time.Millisecond))
	c.logf("%sdpkg --configure: %s", run.label, tm.Configure.Round(time.Millisecond))
	return &configured{scratch: sc, before: before, sde: sde, output: out, ids: c.ids}, nil
}

// removeTransient removes the transient files from a configured root.
func removeTransient(root string) error {
	for _, pat := range transient {
		matches, _ := filepath.Glob(filepath.Join(root, pat))
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// capture writes the difference between a configured root and the union
// of its layers as the configure layer, a blob in the store.
func (c *Builder) capture(cf *configured) (*Result, error) {
	changes, err := rootfs.Diff(cf.root, cf.before)
	if err != nil {
		return nil, err
	}
	c.logPrivileged(changes)
	var diffID v1.Hash
	desc, err := c.st.Layout().WriteBlob(func(w io.Writer) (v1.Descriptor, error) {
		d, id, err := rootfs.WriteChanges(w, cf.root, changes, time.Unix(cf.sde, 0), c.ids)
		diffID = id
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("configure layer: %w", err)
	}
	desc.MediaType = types.OCILayer
	c.logf("configure layer: %d entries, %d bytes", len(changes), desc.Size)
	return &Result{Layer: desc, DiffID: diffID, SourceDateEpoch: cf.sde}, nil
}

// logPrivileged says which setuid and setgid files the maintainer scripts
// made or changed: legitimate (dpkg-statoverride, e.g. crontab setgid
// crontab) but worth seeing, since such a file runs with its owner's
// rights in every container of the image.
func (c *Builder) logPrivileged(changes []rootfs.Change) {
	for _, ch := range changes {
		m := ch.Stat.Mode
		if ch.Whiteout || m&syscall.S_IFMT != syscall.S_IFREG || m&(syscall.S_ISUID|syscall.S_ISGID) == 0 {
			continue
		}
		var what []string
		if m&syscall.S_ISUID != 0 {
			uid, _ := rootfs.ImageOwner(c.ids, ch.Stat.Uid)
			what = append(what, fmt.Sprintf("setuid %d", uid))
		}
		if m&syscall.S_ISGID != 0 {
			gid, _ := rootfs.ImageOwner(c.ids, ch.Stat.Gid)
			what = append(what, fmt.Sprintf("setgid %d", gid))
		}
		c.logf("configure layer: /%s is %s (mode %04o), made or changed by a maintainer script", ch.Rel, strings.Join(what, ", "), m&0o7777)
	}
}

// RootPrefix starts the names of scratch roots: RootPrefix PID - random.
const RootPrefix = "deb2fs-compose-"

// RemoveStaleRoots removes the work areas that runs killed before they
// could clean up left in dir (on /dev/shm they hold memory; an overlay
// root is still mounted).
func RemoveStaleRoots(dir string) {
	store.RemoveStale(dir, RootPrefix, func(p string) {
		(&scratch{dir: p}).remove()
	})
}

// DefaultWorkDir is /dev/shm when it is a tmpfs (assembling ~100 packages
// there takes a fraction of the time it takes on a disk), else the
// temporary directory.
func DefaultWorkDir() string {
	var st syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &st) == nil && st.Type == 0x01021994 && st.Bavail*uint64(st.Bsize) > 2<<30 {
		return "/dev/shm"
	}
	return os.TempDir()
}

// versionOf returns the version of a package of the set, or "".
func (c *Builder) versionOf(name string) string {
	for _, e := range c.pkgs {
		if e.Package == name {
			return e.Version
		}
	}
	return ""
}

// names returns the set's package names.
func (c *Builder) names() []string { return PackageNames(c.pkgs) }
