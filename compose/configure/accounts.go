package configure

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Accounts are users and groups with fixed ids an image needs (its
// application's), made in the root before the first dpkg --configure,
// after the preinsts that run before it (base-passwd's has then written
// /etc/passwd and /etc/group), so the later preinsts and the postinst
// scripts see them and pick other ids for the system users they add. They are part of the configure
// layer, and of its cache key.
type Accounts struct {
	Groups []Group
	Users  []User
}

// Group is a group with a fixed id; Members are users (of the file or the
// image) added to it.
type Group struct {
	Name    string
	GID     int
	Members []string
}

// User is a user with a fixed id. GID is the primary group's id; a group
// of the user's name with that id is made when no group has it. Home is
// made, owned by the user, unless it exists; Groups are supplementary
// groups, by name.
type User struct {
	Name        string
	UID, GID    int
	Home, Shell string
	Gecos       string
	Groups      []string
}

func (a Accounts) Empty() bool { return len(a.Groups) == 0 && len(a.Users) == 0 }

// Key is the accounts' line in the configure cache key.
func (a Accounts) Key() string {
	var b strings.Builder
	for _, g := range a.Groups {
		fmt.Fprintf(&b, "group %s %d %s\n", g.Name, g.GID, strings.Join(g.Members, ","))
	}
	for _, u := range a.Users {
		fmt.Fprintf(&b, "user %s %d %d %s %s %q %s\n", u.Name, u.UID, u.GID, u.Home, u.Shell, u.Gecos, strings.Join(u.Groups, ","))
	}
	return b.String()
}

var accountName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// Check refuses names and fields the account files cannot hold.
func (a Accounts) Check() error {
	field := func(what, v string) error {
		if strings.ContainsAny(v, ":\n") {
			return fmt.Errorf("%s %q: ':' and newlines are not allowed", what, v)
		}
		return nil
	}
	names := map[string]bool{}
	for _, g := range a.Groups {
		if !accountName.MatchString(g.Name) {
			return fmt.Errorf("group %q: not a valid name ([a-z_][a-z0-9_-]*, at most 32)", g.Name)
		}
		if names["g:"+g.Name] {
			return fmt.Errorf("group %s: declared twice", g.Name)
		}
		names["g:"+g.Name] = true
	}
	for _, u := range a.Users {
		if !accountName.MatchString(u.Name) {
			return fmt.Errorf("user %q: not a valid name ([a-z_][a-z0-9_-]*, at most 32)", u.Name)
		}
		if names["u:"+u.Name] {
			return fmt.Errorf("user %s: declared twice", u.Name)
		}
		names["u:"+u.Name] = true
		for _, f := range []struct{ what, v string }{{"home", u.Home}, {"shell", u.Shell}, {"gecos", u.Gecos}} {
			if err := field("user "+u.Name+" "+f.what, f.v); err != nil {
				return err
			}
		}
		if !filepath.IsAbs(u.Home) || !filepath.IsAbs(u.Shell) {
			return fmt.Errorf("user %s: home %q and shell %q must be absolute paths", u.Name, u.Home, u.Shell)
		}
	}
	return nil
}

// accountFile is one of /etc/passwd, /etc/group, /etc/shadow, /etc/gshadow
// read from the root: its lines, and the first two fields' index.
type accountFile struct {
	path  string
	lines []string
}

func readAccountFile(root, name string) (*accountFile, error) {
	p := filepath.Join(root, "etc", name)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	f := &accountFile{path: p}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f.lines = append(f.lines, sc.Text())
	}
	return f, sc.Err()
}

// find returns the index of the line whose field i is v, or -1.
func (f *accountFile) find(i int, v string) int {
	for n, l := range f.lines {
		if fs := strings.Split(l, ":"); len(fs) > i && fs[i] == v {
			return n
		}
	}
	return -1
}

// write replaces the file's content in place (keeping its owner and mode,
// which the sandbox's ids own).
func (f *accountFile) write() error {
	return os.WriteFile(f.path, []byte(strings.Join(f.lines, "\n")+"\n"), 0)
}

// addAccounts makes the accounts in the root: lines in /etc/group and
// /etc/passwd (and /etc/gshadow, /etc/shadow where they exist, locked),
// supplementary memberships, and each user's home directory, made in the
// sandbox so that it belongs to the user there. A name or id the image
// already has is an error naming both.
func (c *Builder) addAccounts(ctx context.Context, sb *scriptSandbox, root string, a Accounts) error {
	group, err := readAccountFile(root, "group")
	if err != nil {
		return fmt.Errorf("accounts: %w (no base-passwd in the image?)", err)
	}
	passwd, err := readAccountFile(root, "passwd")
	if err != nil {
		return fmt.Errorf("accounts: %w (no base-passwd in the image?)", err)
	}
	gshadow, _ := readAccountFile(root, "gshadow")
	shadow, _ := readAccountFile(root, "shadow")
	addGroup := func(name string, gid int) error {
		if n := group.find(0, name); n >= 0 {
			return fmt.Errorf("accounts: group %s: the image has it already (%q)", name, group.lines[n])
		}
		if n := group.find(2, strconv.Itoa(gid)); n >= 0 {
			return fmt.Errorf("accounts: group %s: gid %d is taken (%q)", name, gid, group.lines[n])
		}
		group.lines = append(group.lines, fmt.Sprintf("%s:x:%d:", name, gid))
		if gshadow != nil {
			gshadow.lines = append(gshadow.lines, name+":!::")
		}
		return nil
	}
	addMember := func(grp, user string) error {
		n := group.find(0, grp)
		if n < 0 {
			return fmt.Errorf("accounts: user %s: no group %s in the image or the file", user, grp)
		}
		fs := strings.Split(group.lines[n], ":")
		if len(fs) != 4 {
			return fmt.Errorf("accounts: group %s: malformed line %q", grp, group.lines[n])
		}
		members := strings.FieldsFunc(fs[3], func(r rune) bool { return r == ',' })
		for _, m := range members {
			if m == user {
				return nil
			}
		}
		fs[3] = strings.Join(append(members, user), ",")
		group.lines[n] = strings.Join(fs, ":")
		if gshadow != nil {
			if m := gshadow.find(0, grp); m >= 0 {
				gs := strings.Split(gshadow.lines[m], ":")
				if len(gs) == 4 {
					gs[3] = strings.Join(append(strings.FieldsFunc(gs[3], func(r rune) bool { return r == ',' }), user), ",")
					gshadow.lines[m] = strings.Join(gs, ":")
				}
			}
		}
		return nil
	}
	for _, g := range a.Groups {
		if err := addGroup(g.Name, g.GID); err != nil {
			return err
		}
	}
	var homes []string
	for _, u := range a.Users {
		if n := passwd.find(0, u.Name); n >= 0 {
			return fmt.Errorf("accounts: user %s: the image has it already (%q)", u.Name, passwd.lines[n])
		}
		if n := passwd.find(2, strconv.Itoa(u.UID)); n >= 0 {
			return fmt.Errorf("accounts: user %s: uid %d is taken (%q)", u.Name, u.UID, passwd.lines[n])
		}
		if group.find(2, strconv.Itoa(u.GID)) < 0 {
			if err := addGroup(u.Name, u.GID); err != nil {
				return err
			}
		}
		passwd.lines = append(passwd.lines, fmt.Sprintf("%s:x:%d:%d:%s:%s:%s", u.Name, u.UID, u.GID, u.Gecos, u.Home, u.Shell))
		if shadow != nil {
			shadow.lines = append(shadow.lines, u.Name+":!:::::::")
		}
		homes = append(homes, u.Home, fmt.Sprintf("%d:%d", u.UID, u.GID))
	}
	for _, g := range a.Groups {
		for _, m := range g.Members {
			if err := addMember(g.Name, m); err != nil {
				return err
			}
		}
	}
	for _, u := range a.Users {
		for _, g := range u.Groups {
			if err := addMember(g, u.Name); err != nil {
				return err
			}
		}
	}
	for _, f := range []*accountFile{group, gshadow, passwd, shadow} {
		if f == nil {
			continue
		}
		if err := f.write(); err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
	}
	// Homes: made in the sandbox (owned by the users there), unless present.
	const mkHomes = `while [ $# -ge 2 ]; do
	if [ ! -e "$1" ]; then mkdir -p "$1" && chown "$2" "$1" && chmod 0755 "$1" || exit 1; fi
	shift 2
done`
	if len(homes) > 0 {
		if out, err := sb.run(ctx, nil, append([]string{"/bin/sh", "-c", mkHomes, "deb2fs-homes"}, homes...)...); err != nil {
			return fmt.Errorf("accounts: home directories: %v\n%s", err, out)
		}
	}
	c.logf("accounts: %d groups, %d users", len(a.Groups), len(a.Users))
	return nil
}
