package firstboot

import (
	"path"
	"regexp"
)

// hashLink is the name of a certificate's hash link (c_rehash, openssl
// rehash): eight hex digits, a dot, a number.
var hashLink = regexp.MustCompile(`^[0-9a-f]{8}\.[0-9]+$`)

// Version identifies the hooks, the entrypoint and the systemd unit: it
// is part of the compose cache key, so changing a hook remakes every
// configure layer.
const Version = 5

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
	// Links are directories, relative to the root, in which the symlinks
	// that the removal leaves dangling are removed too (a certificate's
	// hash link, whose name changes with the certificate).
	Links []string
	// Empty are files truncated to zero length if they exist.
	Empty []string
	// Placeholders are files, relative to the root, that Prepare creates
	// empty before any maintainer script runs, so that the script that
	// would generate the secret finds it present and skips the work the
	// first run does anyway. Each lies under Remove, so none is sealed.
	Placeholders []string
	// Script is the shell script run once when a container first starts
	// (under set -e).
	Script string
}

// hooks is the registry, in the order the first-run scripts run:
// machine-id first (D-Bus copies it), dbus, ssl-cert (others link to or
// look for the snakeoil pair: pg_createcluster turns SSL on only if it
// exists), then the others by name. The paths
// and commands are those of the packages' maintainer scripts (Debian 12;
// research/debian.md §4).
var hooks = []Hook{
	{
		Name: "machine-id",
		// machine-id(5): an image ships /etc/machine-id empty; systemd
		// (or this hook, without systemd) fills it at first boot.
		Empty: []string{"etc/machine-id"},
		Script: `if [ -f /etc/machine-id ] && [ ! -s /etc/machine-id ]; then
	tr -d '-' < /proc/sys/kernel/random/uuid > /etc/machine-id
fi
`,
	},
	{
		// dbus-daemon's postinst runs dbus-uuidgen --ensure, which copies
		// /etc/machine-id when it is valid, else makes an id of its own.
		Name:     "dbus",
		Packages: []string{"dbus", "dbus-daemon"},
		Remove:   []string{"var/lib/dbus/machine-id"},
		Script:   "mkdir -p /var/lib/dbus\ndbus-uuidgen --ensure\n",
	},
	{
		// The certificate's hash link (/etc/ssl/certs/HASH.0) dangles
		// once the certificate is gone; Apply removes it (Links).
		Name:     "ssl-cert",
		Packages: []string{"ssl-cert"},
		Remove: []string{
			"etc/ssl/certs/ssl-cert-snakeoil.pem",
			"etc/ssl/private/ssl-cert-snakeoil.key",
		},
		Links:  []string{"etc/ssl/certs"},
		Script: "make-ssl-cert generate-default-snakeoil --force-overwrite\n",
	},
	{
		Name:     "bind9",
		Packages: []string{"bind9"},
		Remove:   []string{"etc/bind/rndc.key"},
		Script: `rndc-confgen -a
chown bind:bind /etc/bind/rndc.key
chmod 0640 /etc/bind/rndc.key
`,
	},
	{
		Name:     "courier-imap",
		Packages: []string{"courier-imap"},
		Remove:   []string{"etc/courier/imapd.pem"},
		Script: `mkimapdcert
chmod 0640 /etc/courier/imapd.pem
chown root:courier /etc/courier/imapd.pem
`,
	},
	{
		Name:     "dropbear",
		Packages: []string{"dropbear", "dropbear-run"},
		Remove:   []string{"etc/dropbear/dropbear_*_host_key"},
		Script: `for t in rsa ecdsa ed25519; do
	[ -e /etc/dropbear/dropbear_${t}_host_key ] || dropbearkey -t $t -f /etc/dropbear/dropbear_${t}_host_key
done
`,
	},
	{
		// ejabberd's preinst makes a self-signed certificate and key in
		// one file, for the host's name.
		Name:     "ejabberd",
		Packages: []string{"ejabberd"},
		Remove:   []string{"etc/ejabberd/ejabberd.pem"},
		Script: `openssl req -new -x509 -days 365 -nodes -subj "/O=ejabberd/CN=$(hostname -f 2>/dev/null || hostname)" \
	-out /etc/ejabberd/ejabberd.pem -keyout /etc/ejabberd/ejabberd.pem
chown root:ejabberd /etc/ejabberd/ejabberd.pem
chmod 0640 /etc/ejabberd/ejabberd.pem
`,
	},
	{
		Name:     "munge",
		Packages: []string{"munge"},
		Remove:   []string{"etc/munge/munge.key"},
		Script: `su munge -s /bin/sh -c 'mungekey -c'
chmod 0400 /etc/munge/munge.key
`,
	},
	{
		Name:     "nsd",
		Packages: []string{"nsd"},
		Remove:   []string{"etc/nsd/nsd_server.*", "etc/nsd/nsd_control.*"},
		Script:   "nsd-control-setup\n",
	},
	{
		Name:     "openssh-server",
		Packages: []string{"openssh-server"},
		Remove:   []string{"etc/ssh/ssh_host_*"},
		// The postinst makes each key of sshd_config's HostKey list (these
		// three by default) only if its file is absent.
		Placeholders: []string{"etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_ecdsa_key", "etc/ssh/ssh_host_ed25519_key"},
		Script:       "ssh-keygen -A\n",
	},
	{
		// postgresql-NN's postinst creates the cluster NN/main, whose
		// pg_control holds a unique system identifier: each instance makes
		// its own, as the postinst does.
		Name:     "postgresql",
		Packages: []string{"postgresql-13", "postgresql-14", "postgresql-15", "postgresql-16", "postgresql-17", "postgresql-18"},
		Remove:   []string{"var/lib/postgresql/*/main", "etc/postgresql/*/main"},
		Script: `for v in $(ls /usr/lib/postgresql); do
	[ -x /usr/lib/postgresql/$v/bin/initdb ] || continue
	[ -e /etc/postgresql/$v/main ] || pg_createcluster $v main
done
`,
	},
	{
		Name:     "rabbitmq-server",
		Packages: []string{"rabbitmq-server"},
		Remove:   []string{"var/lib/rabbitmq/.erlang.cookie"},
		Script: `(umask 077; openssl rand -base64 -out /var/lib/rabbitmq/.erlang.cookie 42)
chmod 0400 /var/lib/rabbitmq/.erlang.cookie
chown rabbitmq:rabbitmq /var/lib/rabbitmq/.erlang.cookie
`,
	},
	{
		// xrdp's cert.pem and key.pem link to the snakeoil pair, which
		// the ssl-cert hook makes (xrdp depends on ssl-cert).
		Name:     "xrdp",
		Packages: []string{"xrdp"},
		Remove:   []string{"etc/xrdp/rsakeys.ini"},
		Script: `xrdp-keygen xrdp auto
chown xrdp /etc/xrdp/rsakeys.ini
`,
	},
}

// Hooks returns the hooks that apply to an image holding the named
// packages, in the order their first-run scripts run.
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
	return out
}

// Covering names the hook among hs that removes or empties the
// root-relative path rel (a file it matches, one below a directory it
// matches, or a certificate hash link HASH.N in one of its Links
// directories), or "" when none does.
func Covering(hs []Hook, rel string) string {
	for _, h := range hs {
		for _, p := range h.Empty {
			if p == rel {
				return h.Name
			}
		}
		for _, pat := range h.Remove {
			for r := rel; r != "." && r != "/"; r = path.Dir(r) {
				if ok, _ := path.Match(pat, r); ok {
					return h.Name
				}
			}
		}
	}
	for _, h := range hs {
		for _, dir := range h.Links {
			if path.Dir(rel) == dir && hashLink.MatchString(path.Base(rel)) {
				return h.Name
			}
		}
	}
	return ""
}
