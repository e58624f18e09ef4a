// Package update is `deb2fs update`: it composes an image's request again
// over a newer mirror index, so the result is what `deb2fs compose` of the
// same request against that index gives, and reports what changed. It
// sits above compose (which writes the image) and inspect (which reads the
// old and the new one): inspect itself writes nothing. The request is the
// one the image records (imagespec.LabelRequest), else one inferred from
// its packages. docs/inspect.md describes the command.
package update
