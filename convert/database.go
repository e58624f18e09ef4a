package convert

import (
	"archive/tar"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/deb2fs/deb2fs/dpkg"
)

// Paths of the dpkg database inside a layer.
const (
	InfoDir     = "var/lib/dpkg/info"
	StatusDDir  = "var/lib/dpkg/status.d"
	dbParentDir = "var/lib/dpkg"
)

// writeDatabase appends the package's dpkg database entries to the layer:
// var/lib/dpkg/info/NAME.* as `dpkg --unpack` writes them, and the status
// stanza as var/lib/dpkg/status.d/NAME (see docs/layer-format.md).
func (c *converter) writeDatabase() error {
	if !c.haveData {
		return errors.New("no data.tar member")
	}
	if err := c.checkConffiles(); err != nil {
		return err
	}
	name := dpkg.InfoName(c.control.Get("Package"), c.control.Get("Architecture"), c.control.Get("Multi-Arch"))
	for _, dir := range []string{"var", "var/lib", dbParentDir, InfoDir, StatusDDir} {
		switch t, ok := c.emitted[dir]; {
		case !ok:
			if err := c.writeDir(dir); err != nil {
				return err
			}
		case t != tar.TypeDir:
			return fmt.Errorf("the package ships /%s, which is not a directory: it would hide the dpkg database", dir)
		}
	}
	var files []controlFile
	for _, f := range c.ctlFiles {
		// dpkg installs every control member but "control" as an info file;
		// names with a dot are not valid info file names.
		if strings.Contains(f.name, ".") {
			continue
		}
		files = append(files, f)
	}
	if !c.hasMD5 {
		files = append(files, controlFile{name: "md5sums", data: lines(c.md5sums), mode: 0o644, mtime: c.ctlMTime})
	}
	files = append(files, controlFile{name: "list", data: lines(append(c.list, c.links...)), mode: 0o644, mtime: c.ctlMTime})
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	for _, f := range files {
		if err := c.writeFile(InfoDir+"/"+name+"."+f.name, f.data, f.mode, f.mtime); err != nil {
			return err
		}
	}
	var conf []dpkg.Conffile
	for _, cf := range c.conffiles {
		hash, ok := c.confMD5[cf.path]
		if !ok {
			hash = "newconffile" // not shipped: dpkg's marker, ignored at configure
		}
		conf = append(conf, dpkg.Conffile{Path: cf.path, Hash: strings.Join(append([]string{hash}, cf.flags...), " ")})
	}
	status, err := dpkg.UnpackedStatus(c.control, conf)
	if err != nil {
		return err
	}
	return c.writeFile(StatusDDir+"/"+name, status.Bytes(), 0o644, c.ctlMTime)
}

func (c *converter) writeDir(p string) error {
	c.emitted[p] = tar.TypeDir
	return c.out.WriteHeader(&tar.Header{
		Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755,
		Uname: "root", Gname: "root", ModTime: epoch, Format: tar.FormatPAX,
	})
}

func (c *converter) writeFile(p string, data []byte, mode int64, mtime time.Time) error {
	if _, ok := c.emitted[p]; ok {
		return fmt.Errorf("the package ships /%s itself", p)
	}
	c.emitted[p] = tar.TypeReg
	if err := c.out.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: p, Mode: mode, Size: int64(len(data)),
		Uname: "root", Gname: "root", ModTime: mtime, Format: tar.FormatPAX,
	}); err != nil {
		return err
	}
	_, err := c.out.Write(data)
	return err
}

func lines(ls []string) []byte {
	if len(ls) == 0 {
		return nil
	}
	return []byte(strings.Join(ls, "\n") + "\n")
}
