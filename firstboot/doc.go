// Package firstboot keeps per-instance secrets out of images and makes each
// container generate its own when it first starts.
//
// A [Hook] names the files a package's configure step creates that must be
// unique per instance (ssh host keys, the snakeoil certificate, the
// machine-id). Compose calls [Apply] on the configured root before it
// captures the configure layer: the files are removed (or emptied), so their
// bytes never reach a layer, and the hook's first-run script is installed
// under /usr/lib/deb2fs/firstboot.d. The image's ENTRYPOINT is
// /usr/lib/deb2fs/firstboot ([EntrypointPath]), which runs the hooks once
// per container, records that, and execs the command.
//
// Images that boot systemd also get a unit, enabled in sysinit.target,
// that runs the same entrypoint before any service starts.
// docs/firstboot.md lists the hooks.
package firstboot
