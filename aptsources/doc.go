// Package aptsources reads the host's apt sources configuration as apt
// does: sources.list and sources.list.d ([LoadSources]), one-line and
// deb822 entries, each a [Source] with the keys its Signed-By trusts
// ([LoadKeyring]), narrowed or replaced by the command line ([Override]).
// It fetches nothing; package archive fetches and verifies what a Source
// names.
package aptsources
