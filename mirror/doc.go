// Package mirror turns a Debian archive into a layer mirror: the package
// layers of a store plus a mirror index mapping every mirrored (package,
// version, architecture) to its layer and keeping the metadata compose
// needs to resolve dependencies.
package mirror
