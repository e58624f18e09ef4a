#!/bin/sh
# Runs a sharded deb2fs mirror: the Indexed Job of shards, then the publish
# Job. Suitable for a CronJob with kubectl, or by hand. See docs/mirror.md.
set -eu
cd "$(dirname "$0")"
kubectl delete job deb2fs-mirror-shards deb2fs-mirror-publish --ignore-not-found
kubectl apply -f mirror-shards.yaml
# Failed shards are fine: the publish step converts what they left.
kubectl wait --for=condition=complete --timeout=6h job/deb2fs-mirror-shards ||
	kubectl wait --for=condition=failed --timeout=1m job/deb2fs-mirror-shards || true
kubectl apply -f mirror-publish.yaml
kubectl wait --for=condition=complete --timeout=6h job/deb2fs-mirror-publish
kubectl logs job/deb2fs-mirror-publish
