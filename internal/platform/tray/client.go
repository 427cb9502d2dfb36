package tray

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
	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
)

// maxResponse caps what we read from Tray; a complete order is a few tens of KiB.
const maxResponse = 8 << 20

// request is one call to Tray, relative to the api_address.
type request struct {
	op       string // for errors: "push", "read_back", ...
	method   string
	path     string // "/products/12"
	query    url.Values
	body     []byte
	form     bool   // body is form-encoded rather than JSON
	notFound string // message for a 404
}

// response is Tray's answer, fully read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// trayError is Tray's error body: {"message":..., "causes":[...], "code":401, "error_code":1000}.
type trayError struct {
	Message   string          `json:"message"`
	Causes    json.RawMessage `json:"causes"`
	Code      json.RawMessage `json:"code"`
	ErrorCode json.RawMessage `json:"error_code"`
}

// send makes one HTTP call under the connection's limits. token may be empty (auth calls).
func (c *Connector) send(ctx context.Context, st *connState, s settings, r request, token string) (response, error) {
	lim := c.limiter(st, s)
	if err := lim.Acquire(ctx); err != nil {
		var spent *ratelimit.ExhaustedError
		if errors.As(err, &spent) {
			return response{}, &platform.Error{Platform: Name, Op: r.op, Kind: platform.RateLimited, RetryAfter: spent.RetryAfter,
				Message: fmt.Sprintf("daily limit of %d requests reached; not calling Tray until midnight UTC", s.daily)}
		}
		return response{}, transient(r.op, "%s %s: waiting for the rate limiter: %v", r.method, r.path, err)
	}
	defer lim.Release()

	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if token != "" {
		q.Set("access_token", token)
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
	if r.body != nil {
		if r.form {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	req.Header.Set("Accept", "application/json")

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
		lim.Pause(retryAfter(resp.Header, s.perMin, c.opts.Now()))
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// describeTransportErr strips the URL (it carries the access token) from client errors.
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

var secretParam = regexp.MustCompile(`(?i)(access_token|refresh_token|consumer_secret|consumer_key|code)=[^&\s"]*`)

// redact hides credential values that may sit in a URL or form body.
func redact(s string) string { return secretParam.ReplaceAllString(s, "$1=REDACTED") }

// classify turns a non-2xx answer into a *platform.Error; 2xx gives nil.
func classify(r request, resp response, perMin int, now time.Time) error {
	if resp.status >= 200 && resp.status < 300 {
		return nil
	}
	te := parseTrayError(resp.body)
	msg := te.describe()
	e := &platform.Error{Platform: Name, Op: r.op, StatusCode: resp.status, Message: fmt.Sprintf("%s %s", r.method, r.path)}
	if msg != "" {
		e.Message += ": " + msg
	}
	switch {
	case resp.status == http.StatusTooManyRequests:
		e.Kind = platform.RateLimited
		e.RetryAfter = retryAfter(resp.header, perMin, now)
	case resp.status == http.StatusUnauthorized:
		e.Kind = platform.Auth
		e.Message = fmt.Sprintf("%s %s: %s", r.method, r.path, authMessage(te.errorCode()))
	case resp.status == http.StatusNotFound && r.notFound != "":
		e.Kind = platform.Permanent
		e.Message = r.notFound
	case resp.status >= 500:
		e.Kind = platform.Transient
	case resp.status == http.StatusRequestTimeout:
		e.Kind = platform.Transient
	default:
		e.Kind = platform.Permanent
	}
	return e
}

func parseTrayError(body []byte) trayError {
	var te trayError
	_ = json.Unmarshal(body, &te) // a non-JSON error body still classifies by status
	return te
}

func (te trayError) errorCode() int {
	s := strings.Trim(string(te.ErrorCode), `" `)
	n, _ := strconv.Atoi(s)
	return n
}

// describe renders message and causes ("causes" is a list of strings or an object).
func (te trayError) describe() string {
	msg := truncate(te.Message, 200)
	var list []string
	var obj map[string]any
	switch {
	case json.Unmarshal(te.Causes, &list) == nil && len(list) > 0:
		msg = strings.TrimPrefix(msg+": "+truncate(strings.Join(list, "; "), 300), ": ")
	case json.Unmarshal(te.Causes, &obj) == nil && len(obj) > 0:
		b, _ := json.Marshal(obj)
		msg = strings.TrimPrefix(msg+": "+truncate(string(b), 300), ": ")
	}
	return redact(msg)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// authMessage explains Tray's 401 error codes.
func authMessage(code int) string {
	switch code {
	case 1000:
		return "access token expired (error_code 1000)"
	case 1001:
		return "store is blocked on Tray (error_code 1001)"
	case 1002:
		return "store is inactive on Tray (error_code 1002)"
	case 1003:
		return "store is cancelled on Tray (error_code 1003)"
	case 1099:
		return "access token invalid or unknown (error_code 1099)"
	}
	return "unauthorized"
}

// retryAfter reads Retry-After (seconds or HTTP date); without one, waits the time one
// request is worth under the per-minute limit, and at least a second.
func retryAfter(h http.Header, perMin int, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := t.Sub(now); d > 0 {
				return d
			}
			return 0
		}
	}
	d := time.Minute / time.Duration(max(perMin, 1))
	return max(d, time.Second)
}

// saved checks a write answer is Tray's {"message":"Saved",...}; anything else is garbage.
func saved(r request, resp response) error {
	var ok struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(resp.body, &ok); err != nil || !strings.EqualFold(ok.Message, "Saved") {
		return transient(r.op, "%s %s: HTTP %d with an unexpected body (%s)", r.method, r.path, resp.status, snippet(resp.body))
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	return redact(truncate(strings.TrimSpace(s), 80))
}

// money renders an amount as Tray wants it, checking the currency matches the store.
func money(m domain.Money, currency string) (string, error) {
	if m.Currency != "" && !strings.EqualFold(m.Currency, currency) {
		return "", fmt.Errorf("amount in %s but the store sells in %s", m.Currency, currency)
	}
	if m.Amount.IsNegative() {
		return "", fmt.Errorf("negative amount %s", m.Amount)
	}
	return m.Amount.StringFixed(2), nil
}
