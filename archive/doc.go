// Package archive is a verified client of a Debian archive.
//
// Given apt sources (package aptsources reads them from the host's apt
// configuration), it fetches and verifies a suite's InRelease against the
// keyring the source names ([Client.Release]), fetches and verifies the
// Packages index of a component and architecture against the SHA256 that
// InRelease lists ([Client.Packages]), merges several suites as apt does
// ([Merge]) and downloads .deb files verified against the SHA256 and size
// their stanza lists ([Client.Fetch]).
//
// Trust flows one way: keyring → InRelease signature → Packages hash → .deb
// hash. Nothing is parsed before it is verified, and every error names what
// failed: the URL or file, the expected and actual value, the key.
// Verification failures match [ErrVerification] with errors.Is, so a caller
// can tell tampering from an unreachable server.
//
// Suites are keyed on their Codename (bookworm), never on their Suite
// (oldstable), which moves.
//
// A [Client] is safe for concurrent use. Its zero configuration is [New]().
package archive
