// Package configure makes a configure layer: what dpkg leaves after
// installing a package set whose layers are unpacked but not configured.
//
// It materialises the union of the base and package layers in a scratch
// root (overlayfs over the store's unpacked-layer cache, or extraction;
// compose/rootfs), merges the packages' status fragments, makes the
// image's accounts, runs the preinsts and `dpkg --configure` in the order
// a bootstrap gives them (the Essential set first, then each package once
// what it Pre-Depends on is configured), all inside the sandbox, and
// writes the difference between the configured root and the union, with
// firstboot's hooks applied, as a layer into the store. With
// CheckInstanceState it configures a second root under another host name,
// boot id and time and compares the two.
//
// compose decides whether a cached layer is reused; this package only
// builds one.
package configure
