package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// SPDX 2.3 JSON document, the subset deb2fs writes.
type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID                string            `json:"SPDXID"`
	Name                  string            `json:"name"`
	VersionInfo           string            `json:"versionInfo,omitempty"`
	Supplier              string            `json:"supplier,omitempty"`
	DownloadLocation      string            `json:"downloadLocation"`
	FilesAnalyzed         bool              `json:"filesAnalyzed"`
	Checksums             []spdxChecksum    `json:"checksums,omitempty"`
	SourceInfo            string            `json:"sourceInfo,omitempty"`
	LicenseConcluded      string            `json:"licenseConcluded"`
	LicenseDeclared       string            `json:"licenseDeclared"`
	CopyrightText         string            `json:"copyrightText"`
	PrimaryPackagePurpose string            `json:"primaryPackagePurpose,omitempty"`
	ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
}

type spdxChecksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

type spdxExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

const noAssertion = "NOASSERTION"

// SBOMOptions say how the SBOM is made.
type SBOMOptions struct {
	// Tool names the creator ("deb2fs-VERSION").
	Tool string
	// Created is the document's creation time; zero means the image's
	// creation time (so the same image gives the same document).
	Created time.Time
}

// PURL is the package URL of a Debian package:
// pkg:deb/debian/NAME@VERSION?arch=ARCH (without the qualifier when the
// architecture is unknown). Name and version are percent-encoded as the
// purl specification asks and as syft writes them: every character but
// letters, digits and "-._~" (an epoch's ':' is %3A, '+' is %2B).
func PURL(p *Package) string {
	s := "pkg:deb/debian/" + purlEscape(p.Name) + "@" + purlEscape(p.Version)
	if p.Architecture != "" {
		s += "?arch=" + purlEscape(p.Architecture)
	}
	return s
}

// purlEscape percent-encodes s for a purl component.
func purlEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// notIDChar is what an SPDXID may not contain.
var notIDChar = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// WriteSPDX writes an SPDX 2.3 JSON document describing the image: one
// package for the image (primary purpose CONTAINER), one per Debian
// package with its purl, its .deb's SHA256 when known and its source
// package, the document DESCRIBES the image and the image CONTAINS each
// package. Licenses are NOASSERTION: they are in the layers, which
// inspect does not read.
func WriteSPDX(w io.Writer, im *Image, opts SBOMOptions) error {
	created := opts.Created
	if created.IsZero() {
		created = im.Created
	}
	tool := opts.Tool
	if tool == "" {
		tool = "deb2fs"
	}
	name := im.Ref
	if name == "" {
		name = im.Digest.String()
	}
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name: name,
		// A unique URI per image; .invalid never resolves (RFC 2606).
		DocumentNamespace: "https://deb2fs.invalid/spdx/" + url.PathEscape(im.Digest.Algorithm) + "/" + im.Digest.Hex,
		CreationInfo: spdxCreationInfo{
			Created:  created.UTC().Format(time.RFC3339),
			Creators: []string{"Tool: " + tool},
		},
	}
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	uniqueID := func(base string) string {
		id := "SPDXRef-" + strings.Trim(notIDChar.ReplaceAllString(base, "-"), "-")
		for i, c := 2, id; ; i++ {
			if !ids[c] {
				ids[c] = true
				return c
			}
			c = fmt.Sprintf("%s-%d", id, i)
		}
	}
	imageID := uniqueID("Image-" + im.Digest.Hex[:min(len(im.Digest.Hex), 16)])
	doc.Packages = append(doc.Packages, spdxPackage{
		SPDXID: imageID, Name: name, VersionInfo: im.Digest.String(),
		DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion,
		CopyrightText: noAssertion, PrimaryPackagePurpose: "CONTAINER",
		Checksums: []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: im.Digest.Hex}},
	})
	doc.Relationships = append(doc.Relationships, spdxRelationship{"SPDXRef-DOCUMENT", "DESCRIBES", imageID})
	for i := range im.Packages {
		p := &im.Packages[i]
		sp := spdxPackage{
			SPDXID: uniqueID("Package-deb-" + p.Name + "-" + p.Architecture + "-" + p.Version),
			Name:   p.Name, VersionInfo: p.Version,
			DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion,
			CopyrightText: noAssertion, PrimaryPackagePurpose: "LIBRARY",
			ExternalRefs: []spdxExternalRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: PURL(p)}},
		}
		if p.DebSHA256 != "" {
			sp.Checksums = []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: p.DebSHA256}}
		}
		if p.Source != "" {
			src := p.Source
			if p.SourceVersion != "" {
				src += " " + p.SourceVersion
			}
			sp.SourceInfo = "built package from: " + src
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, spdxRelationship{imageID, "CONTAINS", sp.SPDXID})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
