package output

import (
	"fmt"
	"os"

	"github.com/deb2fs/deb2fs/store"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// writeDockerArchive writes the image whose manifest is digest in the
// layout dir as a docker-archive tar (what `docker load` and `podman load`
// read), named deb2fs/TAG:latest. Layers are copied as stored, compressed,
// each hashed against its digest as it is read; a failure leaves no file.
func writeDockerArchive(lay *store.Layout, digest v1.Hash, file, tagName string) error {
	p, err := layout.FromPath(lay.Dir())
	if err != nil {
		return err
	}
	img, err := p.Image(digest)
	if err != nil {
		return err
	}
	ref, err := name.NewTag("deb2fs/" + tagName + ":latest")
	if err != nil {
		return fmt.Errorf("docker-archive name: %w", err)
	}
	if err := tarball.WriteToFile(file, ref, checkedImage{img, lay}); err != nil {
		os.Remove(file) // nothing half-written
		return fmt.Errorf("docker-archive %s: %w", file, err)
	}
	return nil
}
