package firstboot

// EntrypointPath is the image's ENTRYPOINT: it runs the first-run hooks
// once per container, then execs the command.
const EntrypointPath = "/usr/lib/deb2fs/firstboot"

// HookDir holds one executable script per hook, run in name order.
const HookDir = "/usr/lib/deb2fs/firstboot.d"

// StampPath records that the hooks ran in this container (its writable
// layer keeps it across restarts, so keys survive a restart).
const StampPath = "/var/lib/deb2fs/firstboot.done"

// entrypoint is the script at EntrypointPath. A failing hook is reported
// and does not stop the command: the container still starts, and the
// hook runs again next time since the stamp is not written.
const entrypoint = `#!/bin/sh
# deb2fs firstboot: generate this container's own secrets (ssh host keys,
# snakeoil certificate, machine-id) on its first start, then run the command.
if [ ! -e ` + StampPath + ` ]; then
	ok=1
	for hook in ` + HookDir + `/*; do
		[ -x "$hook" ] || continue
		if ! "$hook" >/dev/null 2>&1 </dev/null; then
			echo "deb2fs firstboot: $hook failed" >&2
			ok=0
		fi
	done
	if [ "$ok" = 1 ]; then
		mkdir -p /var/lib/deb2fs 2>/dev/null && : > ` + StampPath + ` 2>/dev/null
	fi
fi
[ $# -gt 0 ] || set -- /bin/sh
exec "$@"
`
