#!/bin/sh
# Creates, for the tests only, the user the unprivileged compose test runs
# deb2fs as (internal/cli TestComposeUnprivileged), with a subordinate id
# range. Idempotent; scripts/test.sh runs it. Needs root.
set -eu
# The unprivileged compose test runs deb2fs as this user, in a user
# namespace over its subordinate ids: useradd gives a regular user a free
# range (/etc/login.defs); if it did not, one after the highest in use.
if ! id deb2fs-unpriv >/dev/null 2>&1; then
	useradd --no-create-home --shell /usr/sbin/nologin --comment "deb2fs unprivileged test" deb2fs-unpriv
fi
if ! grep -q '^deb2fs-unpriv:' /etc/subuid 2>/dev/null || ! grep -q '^deb2fs-unpriv:' /etc/subgid 2>/dev/null; then
	start=$(cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: 'BEGIN { m = 100000 } NF == 3 && $2 + $3 > m { m = $2 + $3 } END { print m }')
	usermod --add-subuids "$start-$((start + 65535))" --add-subgids "$start-$((start + 65535))" deb2fs-unpriv
fi
