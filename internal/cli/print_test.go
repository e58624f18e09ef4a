package cli

import (
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/inspect"
)

// inspect prints the firstboot hooks of a composed image, and nothing for
// an image without them.
func TestPrintImageHooks(t *testing.T) {
	var b strings.Builder
	if err := printImage(&b, &inspect.Image{Ref: "x", Hooks: []string{"machine-id", "openssh-server"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "firstboot\tmachine-id,openssh-server\n") {
		t.Errorf("output:\n%s", b.String())
	}
	b.Reset()
	printImage(&b, &inspect.Image{Ref: "x"})
	if strings.Contains(b.String(), "firstboot") {
		t.Errorf("output without hooks:\n%s", b.String())
	}
}
