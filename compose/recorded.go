package compose

import "github.com/deb2fs/deb2fs/imagespec"

// recordedRequest returns the imagespec.LabelRequest value for these
// options, or "" when the image was composed from an explicit package set
// rather than a request.
func (o Options) recordedRequest() string {
	if o.Recorded != nil {
		return o.Recorded.Label()
	}
	if len(o.Request.Install) == 0 {
		return ""
	}
	r := imagespec.RecordedRequest{
		Install:         o.Request.Install,
		Recommends:      o.Request.Recommends,
		SourceDateEpoch: o.SourceDateEpoch,
		Cmd:             o.Cmd,
		Definition:      o.Definition,
	}
	if o.MaxLayers != 0 && o.MaxLayers != DefaultMaxLayers {
		r.MaxLayers = o.MaxLayers
	}
	return r.Label()
}
