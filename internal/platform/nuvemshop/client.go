package nuvemshop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
)

// maxResponse caps what we read from Nuvemshop; a page of 200 products is a few MiB.
const maxResponse = 16 << 20

// tokenTTL is how long a token read from the secrets store is reused. Nuvemshop tokens
// do not expire, but a reinstall issues a new one; a 401 re-reads at once.
const tokenTTL = 5 * time.Minute

// request is one call, relative to {base_url}/{store_id}.
type request struct {
	op       string
	method   string
	path     string
	query    url.Values
	body     []byte
	notFound string // message for a 404 (Permanent); empty: generic
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// tokenCache holds a connection's access token between calls.
type tokenCache struct {
	mu    sync.Mutex
	ref   string
	token string
	at    time.Time
}

func (c *Connector) token(ctx context.Context, conn domain.Connection, s settings, fresh bool) (string, error) {
	tc := &c.state(conn, s).tok
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if !fresh && tc.token != "" && tc.ref == conn.SecretRef && time.Since(tc.at) < tokenTTL {
		return tc.token, nil
	}
	if conn.SecretRef == "" {
		return "", permanent("config", "connection %s has no secret_ref", conn.ID)
	}
	sec, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return "", transient("credentials", "reading secret %s: %v", conn.SecretRef, err)
	}
	tok := strings.TrimSpace(sec[secretAccessToken])
	if tok == "" {
		return "", authErr("credentials", "secret %s has no %s", conn.SecretRef, secretAccessToken)
	}
	tc.ref, tc.token, tc.at = conn.SecretRef, tok, time.Now()
	return tok, nil
}

// do sends r with the connection's token and classifies the answer; a 401 re-reads the
// secret once (the app may have been reinstalled) and retries when the token changed.
func (c *Connector) do(ctx context.Context, conn domain.Connection, s settings, r request) (response, error) {
	st := c.state(conn, s)
	tok, err := c.token(ctx, conn, s, false)
	if err != nil {
		return response{}, err
	}
	resp, err := c.send(ctx, st, s, r, tok)
	if err != nil {
		return response{}, err
	}
	if resp.status == http.StatusUnauthorized {
		if fresh, ferr := c.token(ctx, conn, s, true); ferr == nil && fresh != tok {
			tok = fresh
			if resp, err = c.send(ctx, st, s, r, tok); err != nil {
				return response{}, err
			}
		}
	}
	if err := classify(r, resp, s); err != nil {
		return resp, redactErr(err, tok)
	}
	return resp, nil
}

// send makes one HTTP call under the connection's limiter.
func (c *Connector) send(ctx context.Context, st *connState, s settings, r request, token string) (response, error) {
	lim := c.limiter(st, s)
	if err := lim.Acquire(ctx); err != nil {
		if tl := (*ratelimit.TooLongError)(nil); errors.As(err, &tl) && ctx.Err() == nil {
			return response{}, &platform.Error{Platform: Name, Op: r.op, Kind: platform.RateLimited, RetryAfter: tl.Wait,
				Message: fmt.Sprintf("%s %s: connection is paused by the rate limit for %s", r.method, r.path, tl.Wait.Round(time.Millisecond))}
		}
		return response{}, transient(r.op, "%s %s: waiting for the rate limiter: %v", r.method, r.path, err)
	}
	limit, remaining, wait := 0, 0, time.Duration(0)
	defer func() {
		lim.Release()
		// The headers tell how full the store's bucket is (scaled to ours), counting
		// callers the limiter does not see; a 429 fills it for the reset hint.
		if limit > 0 && remaining >= 0 && remaining <= limit {
			lim.Observe(int(math.Ceil(float64(limit-remaining) / float64(limit) * s.bucket)))
		}
		if wait > 0 {
			lim.Pause(wait)
		}
	}()
	u := s.api + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(cctx, r.method, u, body)
	if err != nil {
		return response{}, permanent(r.op, "%s %s: building request: %v", r.method, r.path, err)
	}
	req.Header.Set("Authentication", "bearer "+token)
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	c.calls.Add(1)
	st.calls.Add(1)
	resp, err := c.client.Do(req)
	if err != nil {
		return response{}, transient(r.op, "%s %s: %s", r.method, r.path, describeTransportErr(err, token))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	// The headers are valid even when the body breaks off.
	if l, ok := headerInt(resp.Header, headerRateLimit); ok {
		if rem, ok := headerInt(resp.Header, headerRateRemaining); ok {
			limit, remaining = l, rem
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.throttled.Add(1)
		wait = max(resetWait(resp.Header, s), time.Millisecond)
	}
	if err != nil {
		return response{}, transient(r.op, "%s %s: reading response (HTTP %d): %s", r.method, r.path, resp.StatusCode, describeTransportErr(err, token))
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// resetWait is the 429 wait hint: x-rate-limit-reset (milliseconds until the bucket is
// empty). Without it, the time one request takes to leak out, at least a second.
func resetWait(h http.Header, s settings) time.Duration {
	if ms, ok := headerInt(h, headerRateReset); ok && ms >= 0 {
		return time.Duration(ms) * time.Millisecond
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" { // not documented; honoured if sent
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return max(time.Duration(float64(time.Second)/s.perSec), time.Second)
}

// describeTransportErr names a client error without the URL or the token.
func describeTransportErr(err error, token string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated response"
	}
	return redact(err.Error(), token)
}

var bearerRe = regexp.MustCompile(`(?i)(bearer|access_token["=: ]+)\s*[A-Za-z0-9._\-]{6,}`)

// redact hides the token and anything that looks like a bearer credential.
func redact(s, token string) string {
	if token != "" {
		s = strings.ReplaceAll(s, token, "REDACTED")
	}
	return bearerRe.ReplaceAllString(s, "$1 REDACTED")
}

func redactErr(err error, token string) error {
	var pe *platform.Error
	if errors.As(err, &pe) {
		pe.Message = redact(pe.Message, token)
		return pe
	}
	return err
}

// classify turns a non-2xx answer into a *platform.Error; 2xx gives nil.
func classify(r request, resp response, s settings) error {
	if resp.status >= 200 && resp.status < 300 {
		return nil
	}
	e := &platform.Error{Platform: Name, Op: r.op, StatusCode: resp.status, Message: r.method + " " + r.path}
	if msg := describeError(resp.body); msg != "" {
		e.Message += ": " + msg
	}
	switch st := resp.status; {
	case st == http.StatusTooManyRequests:
		e.Kind = platform.RateLimited
		e.RetryAfter = resetWait(resp.header, s)
	case st == http.StatusUnauthorized:
		e.Kind = platform.Auth
		e.Message = r.method + " " + r.path + ": access token invalid or revoked (reinstall the app or update the secret)"
	case st == http.StatusPaymentRequired:
		e.Kind = platform.Auth
		e.Message = r.method + " " + r.path + ": API suspended: the store or the app has an unpaid bill (HTTP 402)"
	case st == http.StatusForbidden:
		e.Kind = platform.Auth
		e.Message += " (the app lacks a scope or the store's plan lacks the feature)"
	case st == http.StatusNotFound && r.notFound != "":
		e.Kind = platform.Permanent
		e.Message = r.notFound
	case st == http.StatusRequestTimeout || st >= 500:
		e.Kind = platform.Transient
	default:
		e.Kind = platform.Permanent
	}
	return e
}

// describeError renders Nuvemshop's error bodies, which come in several shapes:
// {"code","message","description"}, field lists {"price":["..."]}, both mixed, and
// {"error":"..."}. Anything else gives a short snippet.
func describeError(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return "body: " + snippet(body)
	}
	var parts []string
	for _, k := range []string{"description", "error", "message"} {
		var s string
		if json.Unmarshal(m[k], &s) == nil && s != "" {
			parts = append(parts, s)
			break
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		switch k {
		case "code", "message", "description", "error":
		default:
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		var list []string
		var one string
		switch {
		case json.Unmarshal(m[k], &list) == nil && len(list) > 0:
			parts = append(parts, k+": "+strings.Join(list, "; "))
		case json.Unmarshal(m[k], &one) == nil && one != "":
			parts = append(parts, k+": "+one)
		default:
			parts = append(parts, k+": "+snippet(m[k]))
		}
	}
	return truncate(strings.ToValidUTF8(strings.Join(parts, "; "), "?"), 400)
}

func snippet(b []byte) string {
	return truncate(strings.TrimSpace(strings.ToValidUTF8(string(b), "?")), 80)
}

// garbage is the error for a 2xx answer whose body is not what the endpoint returns.
func garbage(r request, resp response) error {
	return transient(r.op, "%s %s: HTTP %d with an unexpected body (%s)", r.method, r.path, resp.status, snippet(resp.body))
}

// amount renders money as a JSON number with two decimals, checking the currency.
func amount(m domain.Money, currency string) (json.RawMessage, error) {
	if m.Currency != "" && !strings.EqualFold(m.Currency, currency) {
		return nil, fmt.Errorf("amount in %s but the store sells in %s", m.Currency, currency)
	}
	if m.Amount.IsNegative() {
		return nil, fmt.Errorf("negative amount %s", m.Amount)
	}
	return json.RawMessage(m.Amount.StringFixed(2)), nil
}
