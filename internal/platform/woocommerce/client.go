package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// maxResponse caps what we read from a store; a page of 100 products with their
// descriptions stays well below it.
const maxResponse = 16 << 20

// Secret keys read from platform.Secrets.
const (
	keyConsumerKey    = "consumer_key"
	keyConsumerSecret = "consumer_secret"
	keyWebhookSecret  = "webhook_secret"
)

// credsTTL is how long keys read from the secrets store are reused; a 401 re-reads them.
const credsTTL = 5 * time.Minute

// request is one call to the REST API, relative to {base_url}/wp-json/wc/v3.
type request struct {
	op       string // for errors: "push", "read_back", ...
	method   string
	path     string // "/products/batch"
	query    url.Values
	body     []byte
	notFound string // message for a 404
}

// response is the store's answer, fully read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// wcError is the WP REST error body: {"code":..., "message":..., "data":{"status":400}}.
type wcError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e wcError) status() int {
	var d struct {
		Status int `json:"status"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return 0
	}
	return d.Status
}

func (e wcError) describe() string {
	msg := strings.TrimSpace(truncate(e.Message, 300))
	if e.Code != "" {
		msg = strings.TrimSpace(msg + " (" + truncate(e.Code, 80) + ")")
	}
	return redact(msg)
}

type creds struct {
	key, secret string
	at          time.Time
}

// credentials returns the connection's consumer key and secret.
func (c *Connector) credentials(ctx context.Context, conn domain.Connection, fresh bool) (creds, error) {
	if !fresh {
		if v, ok := c.creds.Load(credsKey(conn)); ok {
			if cr := v.(creds); c.opts.Now().Sub(cr.at) < credsTTL {
				return cr, nil
			}
		}
	}
	vals, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return creds{}, transient("auth", "reading credentials for connection %s: %s", conn.ID, redact(err.Error()))
	}
	cr := creds{key: strings.TrimSpace(vals[keyConsumerKey]), secret: strings.TrimSpace(vals[keyConsumerSecret]), at: c.opts.Now()}
	for k, v := range map[string]string{keyConsumerKey: cr.key, keyConsumerSecret: cr.secret} {
		if v == "" {
			return creds{}, authErr("auth", "credentials of connection %s lack %s; create a REST API key on the store (Read/Write)", conn.ID, k)
		}
	}
	c.creds.Store(credsKey(conn), cr)
	return cr, nil
}

func credsKey(conn domain.Connection) string { return conn.ID + "|" + conn.SecretRef }

// do sends an authenticated request under the connection's limiter and classifies the
// answer. A 401 re-reads the credentials once (the key may have been rotated).
func (c *Connector) do(ctx context.Context, conn domain.Connection, s settings, r request) (response, error) {
	st := c.state(conn, s)
	for attempt := 0; ; attempt++ {
		cr, err := c.credentials(ctx, conn, attempt > 0)
		if err != nil {
			return response{}, err
		}
		resp, err := c.send(ctx, st, s, r, cr)
		if err != nil {
			return response{}, err
		}
		if resp.status == http.StatusUnauthorized && attempt == 0 {
			if again, err := c.credentials(ctx, conn, true); err == nil && again != cr {
				continue
			}
		}
		return resp, classify(r, resp, s, c.opts.RateWindow, c.opts.Now())
	}
}

// send makes one HTTP call: waits for the limiter, applies the timeout, reads the body.
func (c *Connector) send(ctx context.Context, st *connState, s settings, r request, cr creds) (response, error) {
	lim := c.limiter(st, s)
	if err := lim.Acquire(ctx); err != nil {
		return response{}, transient(r.op, "%s %s: waiting for the rate limiter: %v", r.method, r.path, err)
	}
	defer lim.Release()

	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if s.queryAuth {
		q.Set(keyConsumerKey, cr.key)
		q.Set(keyConsumerSecret, cr.secret)
	}
	u := s.api + r.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(cctx, r.method, u, body)
	if err != nil {
		return response{}, permanent(r.op, "%s %s: building request: %s", r.method, r.path, redact(err.Error()))
	}
	if !s.queryAuth {
		req.SetBasicAuth(cr.key, cr.secret)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Ponte/1 (+woocommerce connector)")

	c.calls.Add(1)
	st.calls.Add(1)
	resp, err := c.client.Do(req)
	if err != nil {
		return response{}, transient(r.op, "%s %s: %s", r.method, r.path, describeTransportErr(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return response{}, transient(r.op, "%s %s: reading response (HTTP %d): %s", r.method, r.path, resp.StatusCode, describeTransportErr(err))
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.throttled.Add(1)
		lim.Pause(retryAfter(resp.Header, s.perMin, c.opts.RateWindow, c.opts.Now()))
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// describeTransportErr strips the URL (it may carry the keys) from client errors.
func describeTransportErr(err error) string {
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
	return redact(err.Error())
}

var secretParam = regexp.MustCompile(`(?i)(consumer_key|consumer_secret|oauth_signature|oauth_consumer_key)=[^&\s"]*`)
var secretToken = regexp.MustCompile(`\b(ck|cs)_[0-9a-fA-F]{8,}\b`)

// redact hides credential values that may sit in a URL or message.
func redact(s string) string {
	s = secretParam.ReplaceAllString(s, "$1=REDACTED")
	return secretToken.ReplaceAllString(s, "${1}_REDACTED")
}

// classify turns a non-2xx answer into a *platform.Error; 2xx gives nil.
func classify(r request, resp response, s settings, window time.Duration, now time.Time) error {
	if resp.status >= 200 && resp.status < 300 {
		return nil
	}
	var we wcError
	_ = json.Unmarshal(resp.body, &we) // a non-JSON error body still classifies by status
	e := &platform.Error{Platform: Name, Op: r.op, StatusCode: resp.status, Message: fmt.Sprintf("%s %s", r.method, r.path)}
	if msg := we.describe(); msg != "" {
		e.Message += ": " + msg
	} else if len(resp.body) > 0 {
		e.Message += ": " + snippet(resp.body)
	}
	switch {
	case resp.status == http.StatusTooManyRequests:
		e.Kind = platform.RateLimited
		e.RetryAfter = retryAfter(resp.header, s.perMin, window, now)
	case resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden:
		e.Kind = platform.Auth
		e.Message += " (check the REST API key: it must exist, be Read/Write, and its user must still manage the shop)"
	case resp.status == http.StatusNotFound && r.notFound != "" && we.Code != "rest_no_route":
		e.Kind = platform.Permanent
		e.Message = r.notFound
	case resp.status == http.StatusNotFound && (we.Code == "rest_no_route" || we.Code == ""):
		e.Kind = platform.Permanent
		e.Message += " (is base_url the store's address, with pretty permalinks enabled?)"
	case resp.status >= 300 && resp.status < 400:
		e.Kind = platform.Permanent
		e.Message += fmt.Sprintf(" (redirected to %s; set base_url to the final address)", redact(truncate(resp.header.Get("Location"), 120)))
	case resp.status >= 500, resp.status == http.StatusRequestTimeout:
		e.Kind = platform.Transient
	default:
		e.Kind = platform.Permanent
	}
	return e
}

// retryAfter reads Retry-After (seconds or HTTP date) or RateLimit-Reset (seconds);
// without either it waits what one request is worth under the limit, at least a second.
func retryAfter(h http.Header, perMin int, window time.Duration, now time.Time) time.Duration {
	for _, name := range []string{"Retry-After", "RateLimit-Reset", "X-RateLimit-Reset"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			if n > 1_000_000_000 { // an epoch timestamp, not a delay
				return max(time.Unix(int64(n), 0).Sub(now), 0)
			}
			return min(time.Duration(n)*time.Second, time.Hour)
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	d := window / time.Duration(max(perMin, 1))
	return max(d, time.Second)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	return redact(truncate(strings.TrimSpace(s), 80))
}

// money renders an amount as WooCommerce wants it (a decimal string), checking the
// currency matches the store.
func money(m domain.Money, currency string) (string, error) {
	if m.Currency != "" && !strings.EqualFold(m.Currency, currency) {
		return "", fmt.Errorf("amount in %s but the store sells in %s", m.Currency, currency)
	}
	if m.Amount.IsNegative() {
		return "", fmt.Errorf("negative amount %s", m.Amount)
	}
	return m.Amount.StringFixed(2), nil
}
