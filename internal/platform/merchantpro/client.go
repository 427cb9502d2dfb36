package merchantpro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// maxResponse caps what we read from the shop; a page of 100 products with variants is
// a few hundred KiB.
const maxResponse = 16 << 20

// request is one API call, relative to {base_url}/api/v2.
type request struct {
	op       string // for errors: "push", "read_back", ...
	method   string
	path     string // "/products/12"
	query    url.Values
	body     []byte
	notFound string // message for a 404
}

// response is the shop's answer, fully read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends r under the connection's limiter and classifies the answer. On 401/403 it
// reloads the secret once and, if the merchant rotated the API user, retries with it.
func (c *Connector) do(ctx context.Context, conn domain.Connection, s settings, r request) (response, error) {
	st := c.state(conn, s)
	cr, err := c.credentials(ctx, conn, st, false)
	if err != nil {
		return response{}, err
	}
	resp, err := c.send(ctx, st, s, r, cr)
	if err != nil {
		return response{}, err
	}
	if resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden {
		if fresh, ferr := c.credentials(ctx, conn, st, true); ferr == nil && fresh != cr {
			cr = fresh
			if resp, err = c.send(ctx, st, s, r, cr); err != nil {
				return response{}, err
			}
		}
	}
	if err := classify(r, resp, s, cr); err != nil {
		return resp, err
	}
	return resp, nil
}

// send makes one HTTP call under the connection's limiter.
func (c *Connector) send(ctx context.Context, st *connState, s settings, r request, cr creds) (response, error) {
	lim := c.limiter(st, s)
	if err := lim.Acquire(ctx); err != nil {
		return response{}, transient(r.op, "%s %s: waiting for the rate limiter: %v", r.method, r.path, err)
	}
	defer lim.Release()

	u := s.base + "/api/v2" + r.path
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
	req.SetBasicAuth(cr.key, cr.secret)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.calls.Add(1)
	resp, err := c.client.Do(req)
	if err != nil {
		return response{}, transient(r.op, "%s %s: %s", r.method, r.path, transportErr(err, cr))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return response{}, transient(r.op, "%s %s: reading response (HTTP %d): %s", r.method, r.path, resp.StatusCode, transportErr(err, cr))
	}
	if len(data) > maxResponse {
		return response{}, transient(r.op, "%s %s: response larger than %d bytes", r.method, r.path, maxResponse)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.throttled.Add(1)
		lim.Pause(retryAfter(resp.Header, s, c.opts.Now()))
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// transportErr describes a client error without the URL or credentials.
func transportErr(err error, cr creds) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated response"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return redact(err.Error(), cr)
}

// redact removes the API key and secret from a message.
func redact(s string, cr creds) string {
	for _, v := range []string{cr.secret, cr.key} {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "REDACTED")
		}
	}
	return s
}

// apiError is MerchantPro's error body: {"error":{"name":...,"message":...}}. A list of
// errors or a bare message are read too.
type apiError struct {
	Error   json.RawMessage `json:"error"`
	Errors  json.RawMessage `json:"errors"`
	Message string          `json:"message"`
}

func (e apiError) describe() string {
	var obj struct {
		Name    string `json:"name"`
		Message string `json:"message"`
		Field   string `json:"field"`
	}
	var parts []string
	if json.Unmarshal(e.Error, &obj) == nil && (obj.Message != "" || obj.Name != "") {
		if obj.Field != "" {
			parts = append(parts, obj.Field+":")
		}
		parts = append(parts, strings.TrimSpace(obj.Name+": "+obj.Message))
	} else {
		var s string
		if json.Unmarshal(e.Error, &s) == nil && s != "" {
			parts = append(parts, s)
		}
	}
	if len(e.Errors) > 0 && string(e.Errors) != "null" {
		parts = append(parts, truncate(string(e.Errors), 300))
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	return strings.Trim(truncate(strings.Join(parts, " "), 400), ": ")
}

// classify turns a non-2xx answer into a *platform.Error; 2xx gives nil.
func classify(r request, resp response, s settings, cr creds) error {
	if resp.status >= 200 && resp.status < 300 {
		return nil
	}
	var ae apiError
	_ = json.Unmarshal(resp.body, &ae) // a non-JSON error body still classifies by status
	msg := redact(ae.describe(), cr)
	e := &platform.Error{Platform: Name, Op: r.op, StatusCode: resp.status, Message: r.method + " " + r.path}
	if msg != "" {
		e.Message += ": " + msg
	}
	switch {
	case resp.status == http.StatusTooManyRequests:
		e.Kind = platform.RateLimited
		e.RetryAfter = retryAfter(resp.header, s, time.Now())
	case resp.status == http.StatusUnauthorized:
		e.Kind = platform.Auth
		e.Message = r.method + " " + r.path + ": API key or secret rejected (HTTP 401)"
	case resp.status == http.StatusForbidden:
		e.Kind = platform.Auth
		e.Message = r.method + " " + r.path + ": forbidden: the API user lacks this permission, or repeated failed logins locked it (HTTP 403)"
	case resp.status == http.StatusNotFound && r.notFound != "":
		e.Kind = platform.Permanent
		e.Message = r.notFound
	case resp.status >= 500, resp.status == http.StatusRequestTimeout:
		e.Kind = platform.Transient
		if msg == "" {
			e.Message += ": " + snippet(resp.body, cr)
		}
	default:
		e.Kind = platform.Permanent
	}
	return e
}

// retryAfter reads Retry-After (seconds or an HTTP date); without one, waits what one
// request is worth under the configured limit.
func retryAfter(h http.Header, s settings, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(min(n, 24*3600)) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	return max(s.window/time.Duration(max(s.limit, 1)), 10*time.Millisecond)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func snippet(b []byte, cr creds) string {
	s := strings.ToValidUTF8(strings.TrimSpace(string(b)), "?")
	return redact(truncate(s, 80), cr)
}

// unwrap returns the resource of an individual answer: the object itself, or its "data"
// member when the shop wraps it.
func unwrap(body []byte) (json.RawMessage, bool) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil || probe == nil {
		return nil, false
	}
	if d, ok := probe["data"]; ok && len(d) > 0 && d[0] == '{' {
		if _, hasID := probe["id"]; !hasID {
			return d, true
		}
	}
	return body, true
}

// flexNum is a JSON number or numeric string ("12.50", 12.5, "12,50" is refused).
type flexNum string

func (f *flexNum) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*f = ""
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*f = flexNum(strings.TrimSpace(str))
		return nil
	}
	if s == "true" || s == "false" || strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
		return fmt.Errorf("not a number: %s", truncate(s, 20))
	}
	*f = flexNum(s)
	return nil
}

func (f flexNum) decimal() (decimal.Decimal, bool) {
	if f == "" {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(string(f))
	return d, err == nil
}

// int64 reads a count (stock); decimals are truncated toward zero.
func (f flexNum) int64() (int64, bool) {
	if n, err := strconv.ParseInt(string(f), 10, 64); err == nil {
		return n, true
	}
	d, ok := f.decimal()
	if !ok || d.Abs().GreaterThan(decimal.NewFromInt(1<<53)) {
		return 0, false
	}
	return d.IntPart(), true
}

// flexID is an id sent as a number or a string.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var n flexNum
	if err := n.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = flexID(n)
	return nil
}

// money renders an amount for the API, checking the currency matches the shop's.
func money(m domain.Money, currency string) (json.Number, error) {
	if m.Currency != "" && !strings.EqualFold(m.Currency, currency) {
		return "", fmt.Errorf("amount in %s but the shop sells in %s", m.Currency, currency)
	}
	if m.Amount.IsNegative() {
		return "", fmt.Errorf("negative amount %s", m.Amount)
	}
	return json.Number(m.Amount.StringFixed(2)), nil
}

// validID accepts MerchantPro ids: positive integers.
func validID(id string) bool {
	if id == "" || len(id) > 19 || id[0] == '0' {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
