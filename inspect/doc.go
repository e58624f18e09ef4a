// Package inspect answers package-level questions about deb2fs images —
// what packages an image holds, which images hold a package in a version
// range, how two images differ — reading only image manifests, configs
// and their annotations (imagespec's keys): the package layers carry
// org.deb2fs.package, .version, .architecture (and .source, .deb.sha256),
// group layers list their members in org.deb2fs.packages, and the config's
// org.deb2fs.packages label lists the whole set. No layer blob is ever
// fetched, so inspecting an image in a registry costs two small requests
// (manifest and config) whatever the image's size. inspect writes
// nothing: package update recomposes an image. docs/inspect.md describes
// the commands.
package inspect
