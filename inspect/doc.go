// Package inspect answers package-level questions about deb2fs images —
// what packages an image holds, which images hold a package in a version
// range, how two images differ — and updates an image to a newer mirror
// index.
//
// Everything but Update reads only image manifests, configs and their
// annotations: the package layers carry org.deb2fs.package, .version,
// .architecture (and .source, .deb.sha256), group layers list their
// members in org.deb2fs.packages, and the config's org.deb2fs.packages
// label lists the whole set. No layer blob is ever fetched, so inspecting
// an image in a registry costs two small requests (manifest and config)
// whatever the image's size. docs/inspect.md describes the commands.
package inspect
