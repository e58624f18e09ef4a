package firstboot

import "sort"

// Version identifies the hooks and the entrypoint: it is part of the
// compose cache key, so changing a hook remakes every configure layer.
const Version = 1

// Hook is one kind of per-instance state.
type Hook struct {
	// Name names the hook and its first-run script.
	Name string
	// Packages: the hook applies when any of them is in the image; none
	// means always.
	Packages []string
	// Remove are glob patterns, relative to the root, of files deleted
	// before the configure layer is sealed.
	Remove []string
	// Empty are files truncated to zero length if they exist.
	Empty []string
	// Script is the shell script run once when a container first starts.
	Script string
}

// hooks is the registry, sorted by name.
var hooks = []Hook{
	{
		Name: "machine-id",
		// machine-id(5): an image ships /etc/machine-id empty; D-Bus keeps a
		// copy that must not be shared either.
		Empty:  []string{"etc/machine-id"},
		Remove: []string{"var/lib/dbus/machine-id"},
		Script: `if [ -f /etc/machine-id ] && [ ! -s /etc/machine-id ]; then
	tr -d '-' < /proc/sys/kernel/random/uuid > /etc/machine-id
fi
if [ -d /var/lib/dbus ] && [ ! -e /var/lib/dbus/machine-id ] && [ -s /etc/machine-id ]; then
	ln -s /etc/machine-id /var/lib/dbus/machine-id
fi
`,
	},
	{
		Name:     "openssh-server",
		Packages: []string{"openssh-server"},
		Remove:   []string{"etc/ssh/ssh_host_*"},
		Script:   "ssh-keygen -A\n",
	},
	{
		Name:     "ssl-cert",
		Packages: []string{"ssl-cert"},
		Remove: []string{
			"etc/ssl/certs/ssl-cert-snakeoil.pem",
			"etc/ssl/private/ssl-cert-snakeoil.key",
		},
		Script: "make-ssl-cert generate-default-snakeoil --force-overwrite\n",
	},
}

// Hooks returns the hooks that apply to an image holding the named
// packages, sorted by name.
func Hooks(packages []string) []Hook {
	have := map[string]bool{}
	for _, p := range packages {
		have[p] = true
	}
	var out []Hook
	for _, h := range hooks {
		use := len(h.Packages) == 0
		for _, p := range h.Packages {
			use = use || have[p]
		}
		if use {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
