package mercos

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
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// maxResponse caps what we read from Mercos; a list page is a few MiB at most.
const maxResponse = 16 << 20

// gate serialises a connection's requests (Mercos counts one limit per token pair across
// all routes) and spaces them: the next request starts no sooner than interval after the
// previous one *finished*. Arrivals at Mercos are then more than interval apart whatever
// the network does, so no window of limit*interval ever holds more than limit requests.
type gate struct {
	interval time.Duration
	sem      chan struct{}
	next     time.Time // guarded by holding sem
	pauseMu  chan struct{}
	paused   time.Time
}

func newGate(interval time.Duration) *gate {
	g := &gate{interval: interval, sem: make(chan struct{}, 1), pauseMu: make(chan struct{}, 1)}
	return g
}

func (g *gate) pausedUntil() time.Time {
	g.pauseMu <- struct{}{}
	defer func() { <-g.pauseMu }()
	return g.paused
}

// pause holds every start until d from now (Mercos asked us to wait).
func (g *gate) pause(d time.Duration) {
	g.pauseMu <- struct{}{}
	if until := time.Now().Add(d); until.After(g.paused) {
		g.paused = until
	}
	<-g.pauseMu
}

// acquire takes the connection's turn; release must follow.
func (g *gate) acquire(ctx context.Context) error {
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		ready := g.next
		if p := g.pausedUntil(); p.After(ready) {
			ready = p
		}
		wait := time.Until(ready)
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			<-g.sem
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (g *gate) release() {
	g.next = time.Now().Add(g.interval)
	<-g.sem
}

// request is one call to Mercos, relative to base_url.
type request struct {
	op       string
	method   string
	path     string // "/v1/produtos"
	query    url.Values
	body     []byte
	notFound string // message for a 404
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// creds reads the token pair (cached per connection; re-read after an auth failure).
func (c *Connector) creds(ctx context.Context, conn domain.Connection, st *connState, op string) (app, comp string, err error) {
	st.credMu.Lock()
	defer st.credMu.Unlock()
	if st.app != "" && st.comp != "" {
		return st.app, st.comp, nil
	}
	sec, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return "", "", &platform.Error{Platform: Name, Op: op, Kind: platform.Auth,
			Message: fmt.Sprintf("connection %s: reading credentials %q failed", conn.ID, conn.SecretRef)}
	}
	app, comp = strings.TrimSpace(sec["application_token"]), strings.TrimSpace(sec["company_token"])
	if app == "" || comp == "" {
		return "", "", &platform.Error{Platform: Name, Op: op, Kind: platform.Auth,
			Message: fmt.Sprintf("connection %s: secret needs application_token and company_token", conn.ID)}
	}
	st.app, st.comp = app, comp
	return app, comp, nil
}

func (st *connState) forgetCreds() {
	st.credMu.Lock()
	st.app, st.comp = "", ""
	st.credMu.Unlock()
}

// do sends r under the connection's gate and classifies the answer: a nil error means 2xx.
func (c *Connector) do(ctx context.Context, conn domain.Connection, s settings, r request) (response, error) {
	st := c.state(conn, s)
	app, comp, err := c.creds(ctx, conn, st, r.op)
	if err != nil {
		return response{}, err
	}
	resp, err := c.send(ctx, st, s, r, app, comp)
	if err != nil {
		return resp, err
	}
	if err := classify(r, resp, s, app, comp); err != nil {
		if platform.AsError(err).Kind == platform.Auth {
			st.forgetCreds() // rotated secrets are picked up on the next call
		}
		return resp, err
	}
	return resp, nil
}

func (c *Connector) send(ctx context.Context, st *connState, s settings, r request, app, comp string) (response, error) {
	g := st.gate.Load()
	if err := g.acquire(ctx); err != nil {
		return response{}, transient(r.op, "%s %s: waiting for the connection's turn: %v", r.method, r.path, err)
	}
	defer g.release()

	u := s.base + r.path
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
	req.Header.Set("ApplicationToken", app)
	req.Header.Set("CompanyToken", comp)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.calls.Add(1)
	resp, err := c.client.Do(req)
	if err != nil {
		return response{}, transient(r.op, "%s %s: %s", r.method, r.path, describeTransportErr(err, app, comp))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return response{}, transient(r.op, "%s %s: reading response (HTTP %d): %s", r.method, r.path, resp.StatusCode, describeTransportErr(err, app, comp))
	}
	out := response{status: resp.StatusCode, header: resp.Header, body: data}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.throttled.Add(1)
		g.pause(retryAfter(out, s))
	}
	return out, nil
}

func describeTransportErr(err error, secrets ...string) string {
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
	return redact(err.Error(), secrets...)
}

// redact hides token values wherever a message might echo them.
func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "REDACTED")
		}
	}
	return s
}

// mercosError is Mercos' validation body: {"mensagem": ..., "erros": [...]}. "erros" is a
// list of {"campo","mensagem"} objects on most routes and of [campo, mensagem] pairs on
// some; the 401 body is a bare string.
type mercosError struct {
	Mensagem string          `json:"mensagem"`
	Erros    json.RawMessage `json:"erros"`
}

// describeError renders an error body as one line: "mensagem: campo: msg; campo: msg".
func describeError(body []byte) string {
	var me mercosError
	if json.Unmarshal(body, &me) != nil {
		var s string
		if json.Unmarshal(body, &s) == nil {
			return truncate(strings.TrimSpace(s), 200)
		}
		return snippet(body)
	}
	var parts []string
	var objs []struct {
		Campo    string `json:"campo"`
		Mensagem string `json:"mensagem"`
	}
	var pairs [][]string
	switch {
	case json.Unmarshal(me.Erros, &objs) == nil:
		for _, o := range objs {
			parts = append(parts, strings.TrimPrefix(o.Campo+": "+o.Mensagem, ": "))
		}
	case json.Unmarshal(me.Erros, &pairs) == nil:
		for _, p := range pairs {
			parts = append(parts, strings.Join(p, ": "))
		}
	}
	msg := me.Mensagem
	if len(parts) > 0 {
		msg = strings.TrimPrefix(msg+": "+strings.Join(parts, "; "), ": ")
	}
	return truncate(msg, 400)
}

// classify turns a non-2xx answer into a *platform.Error; 2xx gives nil.
func classify(r request, resp response, s settings, secrets ...string) error {
	if resp.status >= 200 && resp.status < 300 {
		return nil
	}
	e := &platform.Error{Platform: Name, Op: r.op, StatusCode: resp.status, Message: r.method + " " + r.path}
	if msg := redact(describeError(resp.body), secrets...); msg != "" {
		e.Message += ": " + msg
	}
	switch {
	case resp.status == http.StatusTooManyRequests:
		e.Kind = platform.RateLimited
		e.RetryAfter = retryAfter(resp, s)
	case resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden:
		e.Kind = platform.Auth
		e.Message = fmt.Sprintf("%s %s: Mercos refused the ApplicationToken/CompanyToken pair (HTTP %d)", r.method, r.path, resp.status)
	case resp.status == http.StatusNotFound && r.notFound != "":
		e.Kind = platform.Permanent
		e.Message = r.notFound
	case resp.status >= 500 || resp.status == http.StatusRequestTimeout:
		e.Kind = platform.Transient
	default:
		e.Kind = platform.Permanent
	}
	return e
}

// retryAfter reads Mercos' tempo_ate_permitir_novamente (seconds), then a Retry-After
// header, else the connection's request spacing (at least a second).
func retryAfter(resp response, s settings) time.Duration {
	var hint struct {
		Wait json.Number `json:"tempo_ate_permitir_novamente"`
	}
	if json.Unmarshal(resp.body, &hint) == nil && hint.Wait != "" {
		if f, err := hint.Wait.Float64(); err == nil && f >= 0 && f < 86400 {
			return time.Duration(math.Ceil(f * float64(time.Second)))
		}
	}
	if v := strings.TrimSpace(resp.header.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 86400 {
			return time.Duration(n) * time.Second
		}
	}
	return max(s.window/time.Duration(max(s.perMin, 1)), time.Second)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func snippet(b []byte) string {
	return truncate(strings.TrimSpace(strings.ToValidUTF8(string(b), "?")), 80)
}

// createdID reads a new record's id: the MeusPedidosID header, or "id" in the body.
func createdID(resp response) (int64, bool) {
	if n, err := strconv.ParseInt(strings.TrimSpace(resp.header.Get("MeusPedidosID")), 10, 64); err == nil && n > 0 {
		return n, true
	}
	var b struct {
		ID json.Number `json:"id"`
	}
	if json.Unmarshal(resp.body, &b) == nil {
		if n, err := b.ID.Int64(); err == nil && n > 0 {
			return n, true
		}
	}
	return 0, false
}

// money renders an amount for Mercos, checking the currency.
func money(m domain.Money, currency string) (json.Number, error) {
	if m.Currency != "" && !strings.EqualFold(m.Currency, currency) {
		return "", fmt.Errorf("amount in %s but the account sells in %s", m.Currency, currency)
	}
	if m.Amount.IsNegative() {
		return "", fmt.Errorf("negative amount %s", m.Amount)
	}
	return json.Number(m.Amount.StringFixed(2)), nil
}

// parseID accepts a positive decimal Mercos id.
func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n > 0
}
