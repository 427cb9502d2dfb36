package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// maxResponse caps what we read from Shopify.
const maxResponse = 8 << 20

// gqlRequest is one GraphQL call.
type gqlRequest struct {
	op        string // for errors: "push", "read_back", ...
	operation string // GraphQL operation name
	query     string
	vars      map[string]any
	cost      float64 // requested cost estimate
}

type throttleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

type costExt struct {
	RequestedQueryCost float64         `json:"requestedQueryCost"`
	ActualQueryCost    *float64        `json:"actualQueryCost"`
	ThrottleStatus     *throttleStatus `json:"throttleStatus"`
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     json.RawMessage `json:"errors"`
	Extensions struct {
		Cost *costExt `json:"cost"`
	} `json:"extensions"`
}

// userError is the common shape of Shopify mutation userErrors.
type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

// graphql sends one query under the connection's cost bucket and returns its data.
// Top-level errors and HTTP failures come back classified. A 401 is retried once after
// picking up (or refreshing) a newer access token when the connection has one.
func (c *Connector) graphql(ctx context.Context, conn domain.Connection, s settings, r gqlRequest) (json.RawMessage, error) {
	st := c.state(conn, s)
	tok, err := c.accessToken(ctx, conn, s, st, r.op)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]any{"query": r.query, "operationName": r.operation, "variables": r.vars})
	if err != nil {
		return nil, permanent(r.op, "%s: encoding request: %v", r.operation, err)
	}
	b := st.bucket.Load()
	cost := max(r.cost, 1)
	for attempt := 0; ; attempt++ {
		if err := b.acquire(ctx, cost); err != nil {
			return nil, transient(r.op, "%s: waiting for the cost bucket: %v", r.operation, err)
		}
		resp, data, err := c.post(ctx, s, st, r, body, tok)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			fresh, ok, err := c.renewRejected(ctx, conn, s, st, r.op, tok)
			if err != nil {
				b.refund(cost)
				return nil, err
			}
			if ok {
				b.refund(cost)
				tok = fresh
				continue
			}
		}
		return c.interpret(r, b, cost, resp, data)
	}
}

// post sends the body and reads the whole answer.
func (c *Connector) post(ctx context.Context, s settings, st *connState, r gqlRequest, body []byte, tok string) (*http.Response, []byte, error) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, nil, permanent(r.op, "%s: building request: %v", r.operation, describeTransportErr(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Shopify-Access-Token", tok)
	c.calls.Add(1)
	st.calls.Add(1)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, nil, transient(r.op, "%s: %s", r.operation, describeTransportErr(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, nil, transient(r.op, "%s: reading response (HTTP %d): %s", r.operation, resp.StatusCode, describeTransportErr(err))
	}
	return resp, data, nil
}

// interpret classifies an answer and settles the cost bucket.
func (c *Connector) interpret(r gqlRequest, b *costBucket, cost float64, resp *http.Response, data []byte) (json.RawMessage, error) {
	e := &platform.Error{Platform: Name, Op: r.op, StatusCode: resp.StatusCode, Message: r.operation}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden,
		http.StatusLocked, http.StatusNotFound:
		b.refund(cost) // rejected before execution: nothing was charged
	}
	var g gqlResponse
	parsed := json.Unmarshal(data, &g) == nil
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		c.throttled.Add(1)
		e.Kind, e.RetryAfter = platform.RateLimited, retryAfter(resp.Header)
		b.pause(e.RetryAfter)
		e.Message += ": too many requests"
		return nil, e
	case code == http.StatusUnauthorized:
		e.Kind = platform.Auth
		e.Message += ": access token invalid, expired or revoked"
		return nil, e
	case code == http.StatusPaymentRequired:
		e.Kind = platform.Auth
		e.Message += ": shop is frozen (unpaid)"
		return nil, e
	case code == http.StatusForbidden:
		e.Kind = platform.Auth
		e.Message += ": access denied (missing scope?) " + errorText(g.Errors)
		return nil, e
	case code == http.StatusLocked:
		e.Kind = platform.Auth
		e.Message += ": shop is locked"
		return nil, e
	case code == http.StatusNotFound:
		e.Kind = platform.Permanent
		e.Message += ": shop or API version not found"
		return nil, e
	case code >= 500 || code == http.StatusRequestTimeout:
		e.Kind = platform.Transient
		e.Message += ": " + snippet(data)
		return nil, e
	case code < 200 || code >= 300:
		e.Kind = platform.Permanent
		e.Message += ": " + snippet(data)
		return nil, e
	}
	if !parsed {
		e.Kind = platform.Transient
		e.Message += fmt.Sprintf(": unexpected body (%s)", snippet(data))
		return nil, e
	}
	var ts *throttleStatus
	actual := -1.0
	if ce := g.Extensions.Cost; ce != nil {
		ts = ce.ThrottleStatus
		if ce.ActualQueryCost != nil {
			actual = *ce.ActualQueryCost
		}
	}
	errs := parseErrors(g.Errors)
	for _, ge := range errs {
		if strings.EqualFold(ge.Extensions.Code, "THROTTLED") || strings.EqualFold(ge.Message, "Throttled") {
			c.throttled.Add(1)
			b.settle(cost, 0, ts) // nothing ran: everything refunded, server view adopted
			e.Kind, e.RetryAfter = platform.RateLimited, waitFor(cost, ts)
			b.pause(e.RetryAfter)
			c.log.Debug("shopify throttled", "operation", r.operation, "cost", cost, "wait", e.RetryAfter)
			e.Message += ": throttled by the query cost limit"
			return nil, e
		}
	}
	b.settle(cost, actual, ts)
	if len(errs) > 0 {
		e.Message += ": " + errorText(g.Errors)
		e.Kind = platform.Permanent
		for _, ge := range errs {
			switch strings.ToUpper(ge.Extensions.Code) {
			case "ACCESS_DENIED", "UNAUTHORIZED":
				e.Kind = platform.Auth
			case "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT":
				e.Kind = platform.Transient
			}
		}
		if len(bytes.TrimSpace(g.Data)) == 0 || string(bytes.TrimSpace(g.Data)) == "null" || e.Kind != platform.Permanent {
			return nil, e
		}
		// Partial data with field errors: the caller reads what it can.
		return g.Data, nil
	}
	if d := bytes.TrimSpace(g.Data); len(d) == 0 || d[0] != '{' {
		e.Kind = platform.Transient
		e.Message += fmt.Sprintf(": answer without data (%s)", snippet(data))
		return nil, e
	}
	return g.Data, nil
}

// parseErrors reads GraphQL's errors list; REST-style string errors become one entry.
func parseErrors(raw json.RawMessage) []gqlError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []gqlError
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return []gqlError{{Message: s}}
	}
	return []gqlError{{Message: snippet(raw)}}
}

func errorText(raw json.RawMessage) string {
	var parts []string
	for _, e := range parseErrors(raw) {
		m := truncate(e.Message, 200)
		if e.Extensions.Code != "" {
			m += " (" + e.Extensions.Code + ")"
		}
		parts = append(parts, m)
	}
	return redact(strings.Join(parts, "; "))
}

// retryAfter reads Retry-After (seconds, possibly fractional like "2.0"); a second without one.
func retryAfter(h http.Header) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 3600 {
			return time.Duration(f * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t), 0)
		}
	}
	return time.Second
}

// describeTransportErr strips the URL from client errors.
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

// redact hides anything that looks like a Shopify token (shpat_, shpca_, shpss_...).
func redact(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "shp")
		if i < 0 || i+6 > len(s) || s[i+5] != '_' {
			if i < 0 || i+6 > len(s) {
				b.WriteString(s)
				return b.String()
			}
			b.WriteString(s[:i+3])
			s = s[i+3:]
			continue
		}
		b.WriteString(s[:i+6])
		b.WriteString("REDACTED")
		j := i + 6
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		s = s[j:]
	}
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

// money renders an amount as Shopify's Money scalar, checking the store's currency.
func money(m domain.Money, currency string) (string, error) {
	if m.Currency != "" && !strings.EqualFold(m.Currency, currency) {
		return "", fmt.Errorf("amount in %s but the store sells in %s", m.Currency, currency)
	}
	if m.Amount.IsNegative() {
		return "", fmt.Errorf("negative amount %s", m.Amount)
	}
	return m.Amount.StringFixed(2), nil
}
