package compose

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/deb2fs/deb2fs/mirror"
)

// ScriptError is a maintainer script that failed at compose time.
type ScriptError struct {
	Package string // package name
	Script  string // preinst, postinst, … or "dpkg" when dpkg failed otherwise
	Output  string // what the script (or dpkg) printed
	Err     error
}

func (e *ScriptError) Error() string {
	return fmt.Sprintf("%s %s failed: %v\n%s", e.Package, e.Script, e.Err, strings.TrimRight(e.Output, "\n"))
}

func (e *ScriptError) Unwrap() error { return e.Err }

// policyRCD forbids every service start while compose configures the root
// (invoke-rc.d and deb-systemd-invoke both ask it). It is removed before the
// configure layer is captured.
const (
	policyRCDPath = "usr/sbin/policy-rc.d"
	policyRCD     = "#!/bin/sh\n# deb2fs compose: no service starts while configuring.\nexit 101\n"
)

// infoName is the name of a package's files in var/lib/dpkg/info:
// PKG:ARCH for Multi-Arch: same packages, else PKG.
func infoName(e *mirror.Entry) string {
	if e.MultiArch == "same" {
		return e.Package + ":" + e.Architecture
	}
	return e.Package
}

// runPreinsts runs `preinst install` of every package that has one, in
// order, with the environment dpkg gives maintainer scripts
// (dpkg-maintscript-helper needs it). dpkgVersion is DPKG_RUNNING_VERSION.
func runPreinsts(ctx context.Context, sb *sandbox, order []*mirror.Entry, dpkgVersion string) (int, error) {
	n := 0
	for _, e := range order {
		script := "/var/lib/dpkg/info/" + infoName(e) + ".preinst"
		if _, err := os.Lstat(filepath.Join(sb.root, script)); err != nil {
			continue
		}
		env := []string{
			"DPKG_MAINTSCRIPT_PACKAGE=" + e.Package,
			"DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT=1",
			"DPKG_MAINTSCRIPT_ARCH=" + e.Architecture,
			"DPKG_MAINTSCRIPT_NAME=preinst",
			"DPKG_MAINTSCRIPT_DEBUG=0",
			"DPKG_RUNNING_VERSION=" + dpkgVersion,
			"DPKG_ADMINDIR=/var/lib/dpkg",
			"DPKG_ROOT=",
		}
		out, err := sb.run(ctx, env, script, "install")
		if err != nil {
			return n, &ScriptError{Package: e.Package, Script: "preinst", Output: string(out), Err: err}
		}
		n++
	}
	return n, nil
}

// dpkgFailure finds the package dpkg names in "error processing package
// X (--configure):" and the script in the line that follows.
var dpkgFailure = regexp.MustCompile(`error processing package (\S+) \(--configure\):\n\s*(.*)`)

// runConfigure runs `dpkg --configure --pending` and checks that every
// package ended up installed.
func runConfigure(ctx context.Context, sb *sandbox) ([]byte, error) {
	out, err := sb.run(ctx, nil, "dpkg", "--configure", "--pending")
	if err != nil {
		se := &ScriptError{Package: "dpkg", Script: "--configure --pending", Output: string(out), Err: err}
		if m := dpkgFailure.FindSubmatch(out); m != nil {
			se.Package = string(m[1])
			se.Script = scriptOf(string(m[2]))
		}
		return out, se
	}
	bad, err := notInstalled(filepath.Join(sb.root, "var/lib/dpkg/status"))
	if err != nil {
		return out, err
	}
	if len(bad) > 0 {
		return out, &ScriptError{Package: strings.Join(bad, ", "), Script: "configure", Output: string(out),
			Err: fmt.Errorf("not installed after dpkg --configure --pending")}
	}
	return out, nil
}

// scriptOf names the maintainer script in dpkg's failure line.
func scriptOf(line string) string {
	for _, s := range []struct{ text, name string }{
		{"post-installation", "postinst"}, {"pre-installation", "preinst"},
		{"post-removal", "postrm"}, {"pre-removal", "prerm"},
	} {
		if strings.Contains(line, s.text) {
			return s.name
		}
	}
	return strings.TrimSpace(line)
}

// notInstalled lists the packages of a status file whose Status is not
// "install ok installed", as "name (status)".
func notInstalled(status string) ([]string, error) {
	data, err := os.ReadFile(status)
	if err != nil {
		return nil, err
	}
	var bad []string
	var pkg, st string
	flush := func() {
		if pkg != "" && st != "install ok installed" {
			bad = append(bad, pkg+" ("+st+")")
		}
		pkg, st = "", ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "Package: "):
			pkg = strings.TrimPrefix(line, "Package: ")
		case strings.HasPrefix(line, "Status: "):
			st = strings.TrimPrefix(line, "Status: ")
		}
	}
	flush()
	return bad, sc.Err()
}
