package configure

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/deb2fs/deb2fs/index"
)

// ScriptError is a maintainer script that failed at compose time.
type ScriptError struct {
	Package string // package name
	Script  string // preinst, postinst, … or dpkg's arguments when dpkg failed otherwise
	Output  string // what the script (or dpkg) printed, all of it
	Err     error
}

// ErrorLines is how many of a failed script's last output lines its
// error message carries.
const ErrorLines = 20

// Error names the package and the script and quotes the last errorLines
// lines of its output, or says it printed nothing.
func (e *ScriptError) Error() string {
	return fmt.Sprintf("%s %s failed: %v\n%s", e.Package, e.Script, e.Err, lastLines(e.Output, ErrorLines))
}

// lastLines is the last n lines of out, noting how many were left out
// before them.
func lastLines(out string, n int) string {
	out = strings.TrimRight(out, "\n")
	if strings.TrimSpace(out) == "" {
		return "(it printed nothing)"
	}
	lines := strings.Split(out, "\n")
	if len(lines) <= n {
		return out
	}
	return fmt.Sprintf("[… %d earlier lines]\n%s", len(lines)-n, strings.Join(lines[len(lines)-n:], "\n"))
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
func infoName(e *index.Entry) string {
	if e.MultiArch == "same" {
		return e.Package + ":" + e.Architecture
	}
	return e.Package
}

// preinstDriver runs `preinst install` of each package given as
// PACKAGE ARCH SCRIPT triples, in order, in one sandbox, with the
// environment dpkg gives maintainer scripts (dpkg-maintscript-helper
// needs it). A line starting with preinstMark precedes each script's
// output; on failure the driver prints failMark and stops.
const preinstDriver = `while [ $# -ge 3 ]; do
	pkg=$1 arch=$2 script=$3
	shift 3
	printf '\036deb2fs-preinst %s\n' "$pkg"
	DPKG_MAINTSCRIPT_PACKAGE=$pkg DPKG_MAINTSCRIPT_ARCH=$arch DPKG_MAINTSCRIPT_NAME=preinst \
		DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT=1 DPKG_MAINTSCRIPT_DEBUG=0 DPKG_ADMINDIR=/var/lib/dpkg DPKG_ROOT= \
		"$script" install </dev/null
	rc=$?
	if [ $rc -ne 0 ]; then
		printf '\036deb2fs-failed %s %d\n' "$pkg" $rc
		exit 1
	fi
done
`

const (
	preinstMark = "\036deb2fs-preinst "
	failMark    = "\036deb2fs-failed "
)

// runPreinsts runs `preinst install` of every package that has one, in
// order, all in one sandbox. dpkgVersion is DPKG_RUNNING_VERSION.
func runPreinsts(ctx context.Context, sb *scriptSandbox, order []*index.Entry, dpkgVersion string) (int, error) {
	args := []string{"/bin/sh", "-c", preinstDriver, "deb2fs-preinst"}
	n := 0
	for _, e := range order {
		script := "/var/lib/dpkg/info/" + infoName(e) + ".preinst"
		if _, err := os.Lstat(filepath.Join(sb.root, script)); err != nil {
			continue
		}
		args = append(args, e.Package, e.Architecture, script)
		n++
	}
	if n == 0 {
		return 0, nil
	}
	out, err := sb.run(ctx, []string{"DPKG_RUNNING_VERSION=" + dpkgVersion}, args...)
	if err == nil {
		return n, nil
	}
	// Name the failing package and keep only its script's output.
	se := &ScriptError{Package: "(preinst driver)", Script: "preinst", Output: string(out), Err: err}
	text := string(out)
	if i := strings.LastIndex(text, failMark); i >= 0 {
		f := strings.Fields(text[i+len(failMark):])
		if len(f) >= 2 {
			se.Package = f[0]
			se.Err = fmt.Errorf("exit status %s", f[1])
		}
		text = text[:i]
		if j := strings.LastIndex(text, preinstMark); j >= 0 {
			text = text[j+len(preinstMark):]
			_, text, _ = strings.Cut(text, "\n")
		}
		se.Output = text
	}
	return 0, se
}

// dpkgFailure finds the package dpkg names in "error processing package
// X (--configure):" and the script in the line that follows.
var dpkgFailure = regexp.MustCompile(`error processing package (\S+) \(--configure\):\n\s*(.*)`)

// runConfigure runs `dpkg --configure` of the packages given, or of every
// package left with --pending (none given), and then checks that every
// package ended up installed.
func runConfigure(ctx context.Context, sb *scriptSandbox, pkgs []*index.Entry) ([]byte, error) {
	argv := []string{"dpkg", "--configure"}
	if len(pkgs) > 0 {
		// As apt configures (DPkg::NoTriggers): the triggers these
		// packages activate run once, in the last, --pending run.
		argv = append(argv, "--no-triggers")
	}
	for _, e := range pkgs {
		argv = append(argv, infoName(e))
	}
	if len(pkgs) == 0 {
		argv = append(argv, "--pending")
	}
	out, err := sb.run(ctx, nil, argv...)
	if err != nil {
		se := &ScriptError{Package: "dpkg", Script: strings.Join(argv[1:], " "), Output: string(out), Err: err}
		if m := dpkgFailure.FindSubmatchIndex(out); m != nil {
			se.Package = string(out[m[2]:m[3]])
			se.Script = scriptOf(string(out[m[4]:m[5]]))
			se.Output = failedSection(string(out), se.Package, m[0], m[1])
		}
		return out, se
	}
	if len(pkgs) > 0 {
		return out, nil
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

// failedSection is the part of dpkg's output about the package that
// failed, whose error message spans out[start:end]: from dpkg's last
// "Setting up PKG (" or "Processing triggers for PKG (" before it, so
// that what dpkg printed for other packages afterwards does not push the
// script's own lines out of the error. It is all of out when there is no
// such line (dependency problems).
func failedSection(out, pkg string, start, end int) string {
	from := -1
	for _, head := range []string{"Setting up " + pkg + " (", "Processing triggers for " + pkg + " ("} {
		// "\n"+out: an index in it is the line's index in out.
		if i := strings.LastIndex("\n"+out[:start], "\n"+head); i > from {
			from = i
		}
	}
	if from < 0 {
		return out
	}
	return out[from:end]
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
