// Package dpkg models the parts of the dpkg database that deb2fs writes and
// reads: control paragraphs kept byte-exact, the status stanza dpkg writes
// when it unpacks a package, and the names of a package's info files.
//
// It holds no I/O beyond parsing byte slices; convert and compose build on it.
package dpkg
