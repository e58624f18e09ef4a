package dpkg

import (
	"fmt"
	"strings"
)

// statusOrder is the order in which dpkg writes the fields it knows
// (fieldinfos[] in lib/dpkg/parse.c, dpkg 1.21). Fields it does not know
// ("arbitrary" fields such as Homepage or Built-Using) follow in the order
// of the control file.
var statusOrder = []string{
	"Package", "Essential", "Protected", "Status", "Priority", "Section",
	"Installed-Size", "Origin", "Maintainer", "Bugs", "Architecture",
	"Multi-Arch", "Source", "Version", "Config-Version", "Replaces",
	"Provides", "Depends", "Pre-Depends", "Recommends", "Suggests", "Breaks",
	"Conflicts", "Enhances", "Conffiles", "Filename", "Size", "MD5sum",
	"MSDOS-Filename", "Description", "Triggers-Pending", "Triggers-Awaited",
}

// nicknames are the aliases dpkg maps to a canonical field name.
var nicknames = map[string]string{
	"recommended":      "Recommends",
	"optional":         "Suggests",
	"class":            "Priority",
	"package-revision": "Revision",
	"package_revision": "Revision",
}

// Conffile is one line of a status stanza's Conffiles field.
type Conffile struct {
	Path string // absolute path, as listed in the package's conffiles
	Hash string // md5 of the shipped file, or "newconffile" after a fresh unpack
}

// UnpackedStatus returns the stanza dpkg writes to its status file after
// `dpkg --unpack` of a package with this control paragraph: the control
// fields in dpkg's order, "Status: install ok unpacked", and the Conffiles.
// Boolean fields (Essential, Protected) are written only when "yes" and
// Multi-Arch only when not "no", as dpkg does.
func UnpackedStatus(control Paragraph, conffiles []Conffile) (Paragraph, error) {
	known := map[string]string{}
	var arbitrary []Field
	for _, f := range control.Fields {
		name := canonical(f.Name)
		switch strings.ToLower(name) {
		case "status", "config-version", "conffiles", "triggers-pending", "triggers-awaited":
			return Paragraph{}, fmt.Errorf("control: field %q does not belong in a package's control file", f.Name)
		}
		if isKnown(name) {
			known[name] = f.Value
		} else {
			arbitrary = append(arbitrary, f)
		}
	}
	if known["Package"] == "" {
		return Paragraph{}, fmt.Errorf("control: missing Package field")
	}
	if known["Version"] == "" {
		return Paragraph{}, fmt.Errorf("control: package %s: missing Version field", known["Package"])
	}
	known["Status"] = "install ok unpacked"
	if len(conffiles) > 0 {
		var b strings.Builder
		for _, c := range conffiles {
			fmt.Fprintf(&b, "\n %s %s", c.Path, c.Hash)
		}
		known["Conffiles"] = b.String()
	}
	var out Paragraph
	for _, name := range statusOrder {
		v, ok := known[name]
		if !ok {
			continue
		}
		switch name {
		case "Essential", "Protected":
			if v != "yes" {
				continue
			}
		case "Multi-Arch":
			if v == "no" {
				continue
			}
		}
		out.Fields = append(out.Fields, Field{Name: name, Value: v})
	}
	out.Fields = append(out.Fields, arbitrary...)
	return out, nil
}

func canonical(name string) string {
	if c, ok := nicknames[strings.ToLower(name)]; ok {
		return c
	}
	for _, k := range statusOrder {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func isKnown(name string) bool {
	for _, k := range statusOrder {
		if k == name {
			return true
		}
	}
	return name == "Revision"
}

// InfoName returns the base name dpkg gives a package's files under
// var/lib/dpkg/info: "PKG" normally and "PKG:ARCH" for Multi-Arch: same
// packages (pkg_infodb_get_file in lib/dpkg/db-ctrl-format.c).
func InfoName(pkg, arch, multiArch string) string {
	if multiArch == "same" {
		return pkg + ":" + arch
	}
	return pkg
}
