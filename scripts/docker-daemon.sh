#!/bin/sh
# Docker engine for the end-to-end tests: `start` prints the DOCKER_HOST of
# a running engine — the system's when one answers on the default socket,
# else a private dockerd (Debian's docker.io) started here with its own
# socket, data and exec roots; `stop` stops the private one. Idempotent.
# Usage: scripts/docker-daemon.sh start|stop
set -eu

run=/run/deb2fs-docker
sock=unix://$run/docker.sock

case "${1:-}" in
start)
	if docker version >/dev/null 2>&1; then
		echo "${DOCKER_HOST:-unix:///var/run/docker.sock}"
		exit 0
	fi
	if docker -H "$sock" version >/dev/null 2>&1; then
		echo "$sock"
		exit 0
	fi
	command -v dockerd >/dev/null || { echo "docker-daemon: no dockerd (scripts/install-deps.sh installs docker.io)" >&2; exit 1; }
	mkdir -p "$run"
	# A bridge network of its own address range; iptables for -p.
	setsid dockerd --host "$sock" --data-root /var/lib/deb2fs-docker \
		--exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
		--bip 172.31.250.1/24 --storage-driver overlay2 \
		>"$run/dockerd.log" 2>&1 </dev/null &
	i=0
	until docker -H "$sock" version >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 120 ]; then
			echo "docker-daemon: dockerd did not answer in 30 s:" >&2
			tail -n 20 "$run/dockerd.log" >&2
			exit 1
		fi
		sleep 0.25
	done
	echo "$sock"
	;;
stop)
	if [ -f "$run/dockerd.pid" ]; then
		pid=$(cat "$run/dockerd.pid")
		kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 120 ]; do
			i=$((i + 1))
			sleep 0.25
		done
	fi
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
