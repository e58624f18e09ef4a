package firstboot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Prepare readies an unconfigured root for the maintainer scripts: it
// creates each hook's placeholders (empty, mode 0600, root owned) whose
// directory exists and that do not exist yet. A placeholder whose
// directory is missing is left out: the script then makes the secret and
// Apply removes it as before.
func Prepare(root string, hs []Hook) error {
	for _, h := range hs {
		for _, p := range h.Placeholders {
			abs := filepath.Join(root, p)
			if fi, err := os.Lstat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
				continue
			}
			f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("firstboot %s: placeholder: %w", h.Name, err)
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Apply prepares a configured root for sealing: for each hook it removes
// (or empties) the per-instance files, and it installs the entrypoint, the
// hooks' first-run scripts and, when the root holds systemd, the unit that
// runs them at boot, enabled. It returns the root-relative paths it
// removed or emptied. Every file Apply writes has mode 0755 or 0644, root
// owned; its mtime is left to the caller's normalisation.
func Apply(root string, hs []Hook) ([]string, error) {
	var touched []string
	for _, h := range hs {
		for _, pat := range h.Remove {
			matches, err := filepath.Glob(filepath.Join(root, pat))
			if err != nil {
				return nil, fmt.Errorf("firstboot %s: %w", h.Name, err)
			}
			for _, m := range matches {
				if err := os.RemoveAll(m); err != nil {
					return nil, err
				}
				touched = append(touched, strings.TrimPrefix(m, root+"/"))
			}
		}
		// A certificate's hash link (/etc/ssl/certs/HASH.0) points at the
		// removed file: remove the links left dangling where the hook
		// says so (only there: xrdp's links to the snakeoil pair stay,
		// the hook makes the pair again).
		for _, dir := range h.Links {
			if err := removeDanglingLinks(root, dir, &touched); err != nil {
				return nil, err
			}
		}
		for _, p := range h.Empty {
			abs := filepath.Join(root, p)
			if fi, err := os.Lstat(abs); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
				if err := os.Truncate(abs, 0); err != nil {
					return nil, err
				}
				touched = append(touched, p)
			}
		}
	}
	dir := filepath.Join(root, HookDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, EntrypointPath), []byte(entrypoint), 0o755); err != nil {
		return nil, err
	}
	for i, h := range hs {
		// Three digits: the entrypoint runs them in glob (name) order, and
		// the registry holds more than nine hooks.
		name := fmt.Sprintf("%03d-%s", (i+1)*10, h.Name)
		script := "#!/bin/sh\n# deb2fs firstboot hook " + h.Name + "\nset -e\n" + h.Script
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			return nil, err
		}
	}
	if err := installUnit(root); err != nil {
		return nil, err
	}
	return touched, nil
}

// removeDanglingLinks removes the symlinks in root/dir whose target no
// longer exists.
func removeDanglingLinks(root, dir string, touched *[]string) error {
	abs := filepath.Join(root, dir)
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil // the directory does not exist: nothing to do
	}
	for _, e := range entries {
		if e.Type()&os.ModeSymlink == 0 {
			continue
		}
		p := filepath.Join(abs, e.Name())
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(abs, target)
		} else {
			target = filepath.Join(root, target)
		}
		if _, err := os.Lstat(target); os.IsNotExist(err) {
			if err := os.Remove(p); err != nil {
				return err
			}
			*touched = append(*touched, filepath.Join(dir, e.Name()))
		}
	}
	return nil
}
