// Package cli holds deb2fs's cobra commands, one file per command. It wires
// flags, progress and exit codes to the library packages and holds no other
// logic.
package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/imageref"
	"github.com/deb2fs/deb2fs/internal/userns"
	"github.com/deb2fs/deb2fs/store"
)

// New returns the root command.
func New() *cobra.Command {
	root := &cobra.Command{
		Use:           "deb2fs",
		Short:         "Turn a Debian archive into container layers and compose images from them",
		SilenceUsage:  true,
		SilenceErrors: true,
		// compose and update run maintainer scripts as root in a chroot:
		// without real root they run in a user namespace (package userns).
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if (cmd.Name() == "compose" || cmd.Name() == "update" || cmd.Name() == "verify") && userns.Needed() {
				if err := userns.Reexec(); err != nil {
					return fmt.Errorf("%s: not root, and no user namespace: %w", cmd.Name(), err)
				}
			}
			return nil
		},
	}
	root.AddCommand(newVersion(), newConvert(), newMirror(), newCompose(), newLock(), newInspect(), newWhich(), newDiff(), newUpdate(), newVerify())
	return root
}

// ExitCode maps a command's error to the process exit status, printing it.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "deb2fs:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "deb2fs:", err)
	return 1
}

// exitError carries a specific exit status (and an optional message).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// storeFlag registers --store; an empty value means the per-user store.
func storeFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "store", "", "layer store: an OCI image layout directory (default: the per-user store)")
}

func openStore(dir string) (*store.Store, error) {
	if dir == "" {
		d, err := store.DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return store.Open(dir)
}

// registryStore returns the registry repository a --store value names
// (docker://REGISTRY/REPO, or REGISTRY/REPO whose REGISTRY has a '.' or a
// ':' or is localhost, as imageref parses it), without docker://, or ""
// when it names a directory. An existing directory is a directory.
func registryStore(s string) (string, error) {
	if _, err := os.Stat(s); s == "" || err == nil {
		return "", nil
	}
	r, err := imageref.Parse(s)
	if err != nil {
		return "", fmt.Errorf("--store %w", err)
	}
	switch r.Transport {
	case imageref.Registry:
		return r.Path, nil
	case imageref.Name:
		return "", nil
	}
	return "", fmt.Errorf("--store %s: want a directory or REGISTRY/REPO", s)
}
