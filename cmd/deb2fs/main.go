// Command deb2fs turns Debian packages into container layers and composes
// images from them. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/deb2fs/deb2fs/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.New().ExecuteContext(ctx)
	stop()
	os.Exit(cli.ExitCode(err))
}
