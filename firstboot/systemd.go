package firstboot

import (
	"os"
	"path/filepath"
)

// UnitPath is the systemd unit that runs the hooks when an image boots
// systemd (its ENTRYPOINT still runs them first when a container starts
// with a command; the unit then finds the stamp and is skipped).
const UnitPath = "/usr/lib/systemd/system/deb2fs-firstboot.service"

// WantsPath enables the unit as `systemctl enable` would: a static link in
// sysinit.target.wants, so the hooks run before any service starts.
const WantsPath = "/etc/systemd/system/sysinit.target.wants/deb2fs-firstboot.service"

// unit runs the entrypoint with `true` as its command: the hooks, the
// stamp, nothing else. It is ordered before sysinit.target (every service
// with default dependencies comes after) and, for clarity, before the
// services whose keys the hooks make.
const unit = `[Unit]
Description=deb2fs first boot: this system's own host keys, certificates and identity
ConditionPathExists=!` + StampPath + `
DefaultDependencies=no
After=local-fs.target systemd-remount-fs.service systemd-machine-id-commit.service
Before=sysinit.target shutdown.target ssh.service dropbear.service named.service munge.service nsd.service xrdp.service rabbitmq-server.service ejabberd.service courier-imap.service
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=` + EntrypointPath + ` true

[Install]
WantedBy=sysinit.target
`

// hasSystemd reports whether the root holds systemd (as /lib/systemd/systemd,
// which merged /usr makes /usr/lib/systemd/systemd).
func hasSystemd(root string) bool {
	for _, p := range []string{"usr/lib/systemd/systemd", "lib/systemd/systemd"} {
		if fi, err := os.Stat(filepath.Join(root, p)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// installUnit writes the unit and its wants link into a root with systemd.
func installUnit(root string) error {
	if !hasSystemd(root) {
		return nil
	}
	for _, p := range []string{UnitPath, WantsPath} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(root, UnitPath), []byte(unit), 0o644); err != nil {
		return err
	}
	link := filepath.Join(root, WantsPath)
	os.Remove(link)
	return os.Symlink(UnitPath, link)
}
