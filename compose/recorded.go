package compose

import "encoding/json"

// LabelRequest is the image config label recording what the image was
// composed from, as JSON (RecordedRequest): `deb2fs update` composes the
// same request again against a newer mirror index, so an updated image is
// the image a fresh compose would give.
const LabelRequest = "org.deb2fs.compose.request"

// RecordedRequest is the request and the options that change an image, as
// recorded in LabelRequest. Zero fields are compose's defaults.
type RecordedRequest struct {
	// Install are the packages asked for, NAME or NAME=VERSION, in the
	// order given (apt visits them in that order).
	Install []string `json:"install"`
	// Recommends followed Recommends (--install-recommends).
	Recommends bool `json:"recommends,omitempty"`
	// MaxLayers is the layer budget when not DefaultMaxLayers.
	MaxLayers int `json:"maxLayers,omitempty"`
	// SourceDateEpoch is the time asked for; 0 means derived from the layers.
	SourceDateEpoch int64 `json:"sourceDateEpoch,omitempty"`
	// Cmd is the command asked for; nil means the default.
	Cmd []string `json:"cmd,omitempty"`
	// Definition, for an image composed from an image definition file, is
	// FILE@sha256:HEX: its files, accounts and settings are not recorded
	// here, so `deb2fs update` asks for the file.
	Definition string `json:"definition,omitempty"`
}

// recordedRequest returns the LabelRequest value for these options, or ""
// when the image was composed from an explicit package set rather than a
// request.
func (o Options) recordedRequest() string {
	if o.Recorded != nil {
		data, _ := json.Marshal(o.Recorded)
		return string(data)
	}
	if len(o.Request.Install) == 0 {
		return ""
	}
	r := RecordedRequest{
		Install:         o.Request.Install,
		Recommends:      o.Request.Recommends,
		SourceDateEpoch: o.SourceDateEpoch,
		Cmd:             o.Cmd,
		Definition:      o.Definition,
	}
	if o.MaxLayers != 0 && o.MaxLayers != DefaultMaxLayers {
		r.MaxLayers = o.MaxLayers
	}
	data, _ := json.Marshal(r)
	return string(data)
}
