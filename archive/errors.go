package archive

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrVerification is matched (errors.Is) by every error that reports content
// that failed verification: a bad or missing signature, a hash or size
// mismatch, an expired Release, a Release for another suite. Such errors
// mean tampering or a broken trust root, never a transient network fault.
var ErrVerification = errors.New("verification failed")

// ErrNotFound is matched (errors.Is) by an [HTTPError] whose status is
// 404 Not Found or 410 Gone.
var ErrNotFound = errors.New("not found")

// HTTPError is a response with a status other than 200 OK.
type HTTPError struct {
	URL        string
	StatusCode int
}

// Error names the URL and the status.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// Is reports whether the error is [ErrNotFound].
func (e *HTTPError) Is(target error) bool {
	return target == ErrNotFound && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone)
}

// MismatchError reports content whose size or SHA256 differs from what the
// signed metadata promises.
type MismatchError struct {
	What     string // what was checked: "Packages.xz of bookworm main/amd64", "hello 2.10-3 amd64"
	URL      string // where it came from
	Property string // "size" or "sha256"
	Want     string
	Got      string
}

// Error names the thing, its URL, and the expected and actual values.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s (%s): %s mismatch: expected %s, got %s", e.What, e.URL, e.Property, e.Want, e.Got)
}

// Is reports whether target is [ErrVerification].
func (e *MismatchError) Is(target error) bool { return target == ErrVerification }

// SignatureError reports a Release whose signature did not verify against
// the keyring its source names.
type SignatureError struct {
	URL     string   // the InRelease or Release.gpg
	Keyring string   // what the source names: file(s), fingerprints, or "inline key"
	Reasons []string // one line per signature found, or why none was read
}

// Error names the URL, the keyring and why each signature did not count.
func (e *SignatureError) Error() string {
	return fmt.Sprintf("%s: no valid signature by a key in %s: %s", e.URL, e.Keyring, strings.Join(e.Reasons, "; "))
}

// Is reports whether target is [ErrVerification].
func (e *SignatureError) Is(target error) bool { return target == ErrVerification }

// ExpiredError reports a Release whose Valid-Until has passed.
type ExpiredError struct {
	URL        string
	ValidUntil time.Time
	Now        time.Time
}

// Error names the URL, Valid-Until and the clock.
func (e *ExpiredError) Error() string {
	return fmt.Sprintf("%s: expired: Valid-Until %s is before now (%s)", e.URL,
		e.ValidUntil.UTC().Format(time.RFC1123), e.Now.UTC().Format(time.RFC1123))
}

// Is reports whether target is [ErrVerification].
func (e *ExpiredError) Is(target error) bool { return target == ErrVerification }

// verifyError wraps a verification failure that has no dedicated type.
type verifyError struct{ msg string }

func (e *verifyError) Error() string        { return e.msg }
func (e *verifyError) Is(target error) bool { return target == ErrVerification }

func verifyErrorf(format string, args ...any) error {
	return &verifyError{fmt.Sprintf(format, args...)}
}
