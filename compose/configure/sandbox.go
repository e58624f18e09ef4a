package configure

import (
	"context"
	"fmt"

	"github.com/deb2fs/deb2fs/sandbox"
)

// Hostname is the host name maintainer scripts see during configure: fixed
// and neutral, so that the build host's name never lands in a file (key
// comments, certificates, /etc/mailname).
const Hostname = "localhost"

// scriptSandbox runs maintainer scripts in the sandbox over the assembled
// root (package sandbox: the boundary, its threat model in
// docs/compose.md) with the environment compose gives them.
type scriptSandbox struct {
	box  *sandbox.Sandbox
	root string   // the root as compose reaches it
	env  []string // the whole environment of every command, but extra
	logf func(format string, args ...any)
}

// run runs argv inside the sandbox with extra environment variables and
// returns its combined output. Processes a command leaves running are
// killed when it ends, and said so.
func (s *scriptSandbox) run(ctx context.Context, extraEnv []string, argv ...string) ([]byte, error) {
	res, err := s.box.Run(ctx, append(append([]string(nil), s.env...), extraEnv...), argv...)
	if res.Leftover > 0 && s.logf != nil {
		s.logf("sandbox: killed %d processes %s left running", res.Leftover, argv[0])
	}
	return res.Output, err
}

// baseEnv is the environment of maintainer scripts at compose time.
func baseEnv(sourceDateEpoch int64) []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"LC_ALL=C",
		"DEBIAN_FRONTEND=noninteractive",
		"DEBCONF_NONINTERACTIVE_SEEN=true",
		"DEBIAN_PRIORITY=critical",
		fmt.Sprintf("SOURCE_DATE_EPOCH=%d", sourceDateEpoch),
	}
}
