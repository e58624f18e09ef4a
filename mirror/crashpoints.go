package mirror

// Crash points of the crash tests (crash.go, built with -tags
// deb2fs_crash).
const (
	crashConvertWrite = "convert-write" // a layer half written to its temporary file
	crashConverted    = "converted"     // the first layer stored, the rest not
	crashPublishBlob  = "publish-blob"  // the index blob and manifest written, index.json not yet
	crashPublishLocal = "publish-local" // published to the registry, nothing yet in the work store
)
