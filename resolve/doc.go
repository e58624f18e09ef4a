// Package resolve computes the set of binary packages that
// `apt-get install --no-install-recommends PKG...` installs on a minimal
// Debian system, from a universe of Packages stanzas.
//
// The input is a [Universe] built from [Package] values, one per Packages
// stanza, for one native architecture (plus Architecture: all). A [Request]
// names the packages to install (optionally pinned as NAME=VERSION), the base
// system they go on (by default the Essential: yes set plus usr-is-merged,
// the merged-/usr minimal system) and whether Recommends are followed.
// [Universe.Resolve] returns a [Result]: the sorted package set and a
// topological order for running maintainer scripts (base-passwd first).
//
// The algorithm mirrors apt's internal solver (pkgDepCache::MarkInstall in
// apt 2.6) and apt-get's garbage sweep:
//   - every requested and base package is marked and protected first;
//   - then each is visited, and every Pre-Depends and Depends OR-group that
//     the marked set does not already satisfy gets the first installable
//     alternative, depth first, with providers ordered as apt orders them;
//   - a newcomer's Conflicts push out unprotected marked packages;
//   - finally, what nothing reaches any more is dropped.
//
// docs/resolve.md describes the rules, and how apt itself serves as the
// test oracle.
package resolve
