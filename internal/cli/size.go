package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/convert"
)

// sizeUnits are the binary units a size flag takes, longest first.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10},
	{"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0},
}

// sizeValue is a byte-count flag: a positive number with an optional
// binary unit ("16GiB", "512M", "1048576").
type sizeValue struct{ n *int64 }

func (s sizeValue) String() string {
	for _, u := range sizeUnits[:4] {
		if *s.n > 0 && *s.n%(1<<u.shift) == 0 {
			return strconv.FormatInt(*s.n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(*s.n, 10)
}

func (s sizeValue) Set(v string) error {
	num, shift := v, uint(0)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<63-1)>>shift {
		return fmt.Errorf("%q is not a size (a positive number of bytes, optionally with KiB, MiB, GiB or TiB)", v)
	}
	*s.n = n << shift
	return nil
}

func (s sizeValue) Type() string { return "size" }

// maxExpandedSizeFlag adds --max-expanded-size, the cap on a package's
// decompressed data (convert.Options.MaxExpandedSize), to cmd.
func maxExpandedSizeFlag(cmd *cobra.Command, n *int64) {
	*n = convert.DefaultMaxExpandedSize
	cmd.Flags().Var(sizeValue{n}, "max-expanded-size",
		"refuse a .deb whose data.tar expands beyond this size (a decompression bomb), e.g. 16GiB, 512MiB")
}
