// Package compose builds a runnable OCI image from a set of package layers:
// a base layer (the merged-/usr symlinks and the skeleton dpkg needs), the
// package layers themselves, referenced by digest and never recompressed,
// and one configure layer.
//
// The configure layer is what dpkg would have left after installing the
// set: compose materialises the union of the layers in a scratch root,
// merges the packages' status fragments into var/lib/dpkg/status, runs
// every `preinst install` in dependency order (base-passwd first) and then
// `dpkg --configure --pending` in a sandbox (new mount, pid, uts, ipc and
// net namespaces, chroot, a fixed hostname, policy-rc.d forbidding service
// starts). The difference between the configured root and the union of the
// layers, normalised and stripped of per-instance secrets by the firstboot
// hooks, becomes the configure layer. It is cached under the hash of its
// inputs, so the same inputs give the same image digest.
//
// compose holds the plan and the image: the canonical layer order, the
// group layers within a layer budget, the cache of configure layers, the
// files layer, the config and manifest, and the hand-over to an
// output.Output. The configure run is compose/configure; layers to a root
// and back are compose/rootfs.
//
// docs/compose.md describes the steps, the sandbox and the measured times.
package compose
