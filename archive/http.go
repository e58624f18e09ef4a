package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// errStall is the cause of a request abandoned because its body stalled.
var errStall = errors.New("no data received within the stall timeout")

// transient reports whether a failed attempt is worth retrying.
func transient(err error) bool {
	if err == nil || errors.Is(err, ErrVerification) || errors.Is(err, context.Canceled) && !errors.Is(err, errStall) {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		switch he.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, errStall) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// retry runs attempt until it succeeds, fails for good, or the attempts
// are used up; the wait between attempts doubles.
func (c *Client) retry(ctx context.Context, attempt func() error) error {
	wait := c.backoff
	for i := 1; ; i++ {
		err := attempt()
		if err == nil || i >= c.attempts || !transient(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// get starts one GET; the body must be closed. A body that delivers no
// data for the stall timeout fails with errStall.
func (c *Client) get(ctx context.Context, url string) (io.ReadCloser, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel(nil)
		return nil, 0, err
	}
	req.Header.Set("User-Agent", c.userAgent)
	timer := time.AfterFunc(c.stall, func() { cancel(errStall) })
	resp, err := c.http.Do(req)
	if err != nil {
		timer.Stop()
		if cause := context.Cause(ctx); errors.Is(cause, errStall) {
			err = fmt.Errorf("GET %s: %w", url, cause)
		}
		cancel(nil)
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		timer.Stop()
		resp.Body.Close()
		cancel(nil)
		return nil, 0, &HTTPError{URL: url, StatusCode: resp.StatusCode}
	}
	return &stallBody{body: resp.Body, timer: timer, stall: c.stall, ctx: ctx, cancel: cancel, url: url}, resp.ContentLength, nil
}

// stallBody re-arms the stall timer on every read that delivers data.
type stallBody struct {
	body   io.ReadCloser
	timer  *time.Timer
	stall  time.Duration
	ctx    context.Context
	cancel context.CancelCauseFunc
	url    string
	once   sync.Once
}

func (s *stallBody) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if n > 0 {
		s.timer.Reset(s.stall)
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(s.ctx); errors.Is(cause, errStall) {
			err = cause
		}
		err = fmt.Errorf("GET %s: %w", s.url, err)
	}
	return n, err
}

func (s *stallBody) Close() error {
	s.once.Do(func() { s.timer.Stop() })
	err := s.body.Close()
	s.cancel(nil)
	return err
}

// fetchBytes downloads url into memory, refusing more than limit bytes
// (what the signed metadata says the file is, so a hostile server cannot
// exhaust memory). Transient failures are retried.
func (c *Client) fetchBytes(ctx context.Context, url string, limit int64) ([]byte, error) {
	var data []byte
	err := c.retry(ctx, func() error {
		body, n, err := c.get(ctx, url)
		if err != nil {
			return err
		}
		defer body.Close()
		if n > limit {
			return verifyErrorf("GET %s: %d bytes, more than the %d expected", url, n, limit)
		}
		capHint := int64(64 << 10)
		if n > 0 {
			capHint = n
		}
		buf := make([]byte, 0, capHint+1)
		w := &limitedBuffer{buf: buf, limit: limit}
		if _, err := io.Copy(w, body); err != nil {
			if errors.Is(err, errTooLarge) {
				return verifyErrorf("GET %s: more than the %d bytes expected", url, limit)
			}
			return err
		}
		data = w.buf
		return nil
	})
	return data, err
}

var errTooLarge = errors.New("too large")

type limitedBuffer struct {
	buf   []byte
	limit int64
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if int64(len(l.buf)+len(p)) > l.limit {
		return 0, errTooLarge
	}
	l.buf = append(l.buf, p...)
	return len(p), nil
}
