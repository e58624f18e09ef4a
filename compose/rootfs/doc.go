// Package rootfs turns layers into a root file system and a root back into
// a layer: the extractor (whiteouts, owners through the sandbox's id
// mapping, dpkg's Replaces rule for a path several packages ship), the
// store's cache of unpacked layers for overlayfs (checked against a stat
// manifest on use), the overlay's metadata check, the snapshot and diff of
// a configured root, and the deterministic layer writer.
//
// It knows nothing of images, caches of configure layers or maintainer
// scripts: compose and compose/configure drive it.
package rootfs
