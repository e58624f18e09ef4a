// Package golden holds no code: its test composes fixed sets from the
// host's archive into a fresh store and compares every digest deb2fs makes
// (package layers and manifests, base, configure, group and files layers,
// image manifests) with the ones recorded in testdata/digests.json for the
// same inputs, so a refactoring that must not change the format cannot
// change it silently. go test ./internal/golden -update records them.
package golden
