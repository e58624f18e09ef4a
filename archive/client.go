package archive

import (
	"net/http"
	"sync"
	"time"

	"github.com/deb2fs/deb2fs/aptsources"
)

// Client fetches and verifies Releases, Packages indexes and .deb files.
// It is safe for concurrent use.
type Client struct {
	http           *http.Client
	now            func() time.Time
	attempts       int
	backoff        time.Duration
	stall          time.Duration
	userAgent      string
	defaultKeyring string
	trustedDir     string
	compressions   []string

	mu       sync.Mutex
	keyrings map[string]*aptsources.Keyring // by Signed-By value
}

// Option configures a [Client].
type Option func(*Client)

// WithHTTPClient sets the HTTP client. Its transport should be able to
// reach every archive; the default client has connect, TLS and
// response-header timeouts and serves file:// URIs.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithClock sets the clock used for Valid-Until and key expiry.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithRetry sets how many times a request is attempted (at least 1) and the
// wait before the first retry, which doubles for each further one. Only
// transient failures are retried: network errors, stalls, 408, 429 and 5xx.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(c *Client) { c.attempts, c.backoff = max(attempts, 1), backoff }
}

// WithStallTimeout sets how long a response body may deliver no data before
// the request is abandoned (and retried).
func WithStallTimeout(d time.Duration) Option { return func(c *Client) { c.stall = d } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithDefaultKeyring sets the keyring for sources without Signed-By
// (default [aptsources.DefaultKeyring]) and the directory of further
// trusted keyrings that fingerprint-only Signed-By values select from
// (default [aptsources.TrustedDir]).
func WithDefaultKeyring(path, trustedDir string) Option {
	return func(c *Client) { c.defaultKeyring, c.trustedDir = path, trustedDir }
}

// WithCompressions sets the order in which Packages compressions are tried
// among those the Release lists: ".gz", ".xz", "" (uncompressed). The
// default is .gz, .xz, "": gzip decodes about 4x faster than xz in pure Go,
// and the index is downloaded once per run (see docs/archive.md).
func WithCompressions(exts ...string) Option { return func(c *Client) { c.compressions = exts } }

// New returns a client.
func New(opts ...Option) *Client {
	c := &Client{
		now:            time.Now,
		attempts:       3,
		backoff:        500 * time.Millisecond,
		stall:          60 * time.Second,
		userAgent:      "deb2fs",
		defaultKeyring: aptsources.DefaultKeyring,
		trustedDir:     aptsources.TrustedDir,
		compressions:   []string{".gz", ".xz", ""},
		keyrings:       map[string]*aptsources.Keyring{},
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	return c
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	t.MaxIdleConnsPerHost = 16
	t.RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))
	return &http.Client{Transport: t}
}

// keyring returns the keyring a Signed-By value names, read once.
func (c *Client) keyring(signedBy string) (*aptsources.Keyring, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keyrings[signedBy]; ok {
		return k, nil
	}
	k, err := aptsources.LoadKeyring(signedBy, c.defaultKeyring, c.trustedDir)
	if err != nil {
		return nil, err
	}
	c.keyrings[signedBy] = k
	return k, nil
}
