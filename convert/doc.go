// Package convert turns one .deb into one package layer (a "FileSet"): an
// OCI layer holding exactly what `dpkg --unpack` leaves on disk for that
// package — its files, with /bin, /sbin and /lib* moved under /usr for
// merged-/usr targets, and its dpkg database entries — unpacked, not
// configured, and a pure function of the .deb's bytes and FormatVersion.
//
// Conversion is one streaming pass: ar → decompress → rewrite → compress,
// with the layer's digest and diffID hashed while it is written. Batch runs
// many conversions in a bounded worker pool.
//
// The layer format is described in docs/layer-format.md.
package convert
