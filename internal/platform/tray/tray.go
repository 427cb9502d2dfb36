// Package tray is the Tray Commerce connector: stock/price/product pushes, read-back,
// webhook checks, order fetch and status write-back over Tray's REST API
// ({api_address}/..., access_token in the query string).
package tray

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
)

// Name is the platform name used in routes and connections.
const Name = "tray"

// Defaults from Tray's published limits (180 requests/minute, 10,000/day) and a
// conservative request timeout.
const (
	DefaultRateLimitPerMin = 180
	DefaultDailyLimit      = 10000
	DefaultTimeout         = 10 * time.Second
)

// Options tune the connector; the zero value is ready for production.
type Options struct {
	// HTTPClient sends requests; nil means a client with a pooled transport.
	HTTPClient *http.Client
	// Now is the clock (tests move it to expire tokens); nil means time.Now.
	Now func() time.Time
	// MaxConcurrency bounds parallel requests of one Push/ReadBack call (default 8);
	// the per-connection limiter is the real bound.
	MaxConcurrency int
	// RefreshBefore refreshes the access token this long before it expires (default 2m).
	RefreshBefore time.Duration
	// StatusCacheTTL is how long the order status list is cached (default 10m).
	StatusCacheTTL time.Duration
	// Logger receives token lifecycle events; never tokens. Nil discards.
	Logger *slog.Logger
	// Limits holds each store's per-minute limit and daily budget; nil keeps them in this
	// process (ratelimit.Local on Now). On AWS every function shares one (ratelimit.Shared).
	Limits ratelimit.Limits
	// RateWindow is Tray's counting window (default a minute); tests shrink it with the
	// simulator's.
	RateWindow time.Duration
}

// Connector implements platform.Connector for Tray.
type Connector struct {
	secrets platform.Secrets
	opts    Options
	client  *http.Client
	log     *slog.Logger
	sp      *time.Location

	mu    sync.Mutex
	conns map[string]*connState

	calls, grants, refreshes, throttled atomic.Int64
}

var _ platform.Connector = (*Connector)(nil)

// New builds a connector reading credentials from secrets.
func New(secrets platform.Secrets, opts Options) *Connector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = 8
	}
	if opts.RefreshBefore <= 0 {
		opts.RefreshBefore = 2 * time.Minute
	}
	if opts.StatusCacheTTL <= 0 {
		opts.StatusCacheTTL = 10 * time.Minute
	}
	if opts.Limits == nil {
		opts.Limits = ratelimit.Local{Now: opts.Now}
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	client := platform.HTTPClient(opts.HTTPClient, 64)
	log := platform.Logger(opts.Logger)
	return &Connector{
		secrets: secrets, opts: opts, client: client, log: log,
		sp: platform.SaoPaulo(), conns: make(map[string]*connState),
	}
}

// Platform returns "tray".
func (c *Connector) Platform() string { return Name }

// Stats counts what the connector did since it was built.
type Stats struct {
	// HTTPCalls is every request sent to Tray, auth included.
	HTTPCalls int64 `json:"http_calls"`
	// TokenGrants are POST /auth calls (code exchanges); TokenRefreshes GET /auth calls.
	TokenGrants    int64 `json:"token_grants"`
	TokenRefreshes int64 `json:"token_refreshes"`
	// RateLimited counts HTTP 429 answers.
	RateLimited int64 `json:"rate_limited"`
}

// Stats returns the connector's counters.
func (c *Connector) Stats() Stats {
	return Stats{
		HTTPCalls: c.calls.Load(), TokenGrants: c.grants.Load(),
		TokenRefreshes: c.refreshes.Load(), RateLimited: c.throttled.Load(),
	}
}

// CallsFor returns how many HTTP calls were sent for one connection.
func (c *Connector) CallsFor(connectionID string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, st := range c.conns {
		if st.connID == connectionID {
			n += st.calls.Load()
		}
	}
	return n
}

// settings are a connection's parsed Tray settings.
type settings struct {
	api      string // base URL without trailing slash
	storeID  string
	appCode  string
	perMin   int
	daily    int
	timeout  time.Duration
	currency string
	// lineDiscounts states a line sold below its original_price as original_price
	// with the difference as the line's discount (setting line_discounts, default on).
	lineDiscounts bool
	// invoiceSerie is the NF-e series written when the hub gives an invoice number
	// without its key (setting invoice_serie, default "1").
	invoiceSerie string
	// ordersSince is where polling starts on a new connection (setting orders_since,
	// default the connection's creation).
	ordersSince time.Time
}

func (c *Connector) settings(conn domain.Connection) (settings, error) {
	var s settings
	api := strings.TrimRight(strings.TrimSpace(conn.Setting("api_address", "")), "/")
	if api == "" {
		return s, permanent("config", "connection %s has no api_address setting", conn.ID)
	}
	if !strings.Contains(api, "://") {
		api = "https://" + api // Tray hands out api_address without a scheme
	}
	u, err := url.Parse(api)
	if err != nil || u.Host == "" {
		return s, permanent("config", "connection %s: api_address is not a URL", conn.ID)
	}
	s.api = api
	s.storeID = strings.TrimSpace(conn.Setting("store_id", ""))
	s.appCode = strings.TrimSpace(conn.Setting("app_code", ""))
	if s.perMin, err = intSetting(conn, "rate_limit_per_min", DefaultRateLimitPerMin); err != nil {
		return s, err
	}
	if s.daily, err = intSetting(conn, "daily_limit", DefaultDailyLimit); err != nil {
		return s, err
	}
	ms, err := intSetting(conn, "timeout_ms", int(DefaultTimeout/time.Millisecond))
	if err != nil {
		return s, err
	}
	s.timeout = time.Duration(ms) * time.Millisecond
	s.currency = strings.ToUpper(conn.Currency)
	if s.currency == "" {
		s.currency = "BRL"
	}
	switch v := strings.ToLower(strings.TrimSpace(conn.Setting("line_discounts", ""))); v {
	case "", "true", "1", "on":
		s.lineDiscounts = true
	case "false", "0", "off":
	default:
		return s, permanent("config", "connection %s: setting line_discounts must be true or false, got %q", conn.ID, v)
	}
	s.invoiceSerie = trimZeros(conn.Setting("invoice_serie", "1"))
	if s.invoiceSerie == "" || len(s.invoiceSerie) > 3 || domain.Digits(s.invoiceSerie) != s.invoiceSerie {
		return s, permanent("config", "connection %s: setting invoice_serie must be a number of up to 3 digits", conn.ID)
	}
	if v := strings.TrimSpace(conn.Setting("orders_since", "")); v != "" {
		t, err := parseSince(v, c.sp)
		if err != nil {
			return s, permanent("config", "connection %s: setting orders_since must be an RFC 3339 time or YYYY-MM-DD HH:MM:SS (Brazil time), got %q", conn.ID, v)
		}
		s.ordersSince = t
	} else {
		s.ordersSince = conn.CreatedAt.UTC()
	}
	return s, nil
}

// parseSince reads orders_since: RFC 3339, or Tray's own São Paulo "YYYY-MM-DD
// HH:MM:SS" or "YYYY-MM-DD".
func parseSince(v string, sp *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{time.DateTime, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, sp); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time")
}

func intSetting(conn domain.Connection, name string, def int) (int, error) {
	v := conn.Setting(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, permanent("config", "connection %s: setting %s must be a positive integer, got %q", conn.ID, name, v)
	}
	return n, nil
}

// connState is what the connector keeps per connection: its limits, tokens, statuses.
type connState struct {
	connID  string
	limiter ratelimit.Slot
	calls   atomic.Int64

	tokMu    sync.Mutex // serialises token loads and refreshes
	tok      *tokens
	rejected string // access token Tray answered 1000 for; never reuse it

	statusMu sync.Mutex
	statuses map[string]string // upper-cased name -> id
	statusAt time.Time
}

// state returns the connection's state, rebuilding limits when its settings changed.
func (c *Connector) state(conn domain.Connection, s settings) *connState {
	key := conn.ID + "|" + s.api
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.conns[key]
	if !ok {
		st = &connState{connID: conn.ID}
		c.conns[key] = st
	}
	return st
}

// limiter is the connection's per-minute limit and daily budget, one per store (its
// api_address) wherever Limits keeps them.
func (c *Connector) limiter(st *connState, s settings) ratelimit.Limiter {
	return st.limiter.Get(c.opts.Limits, Name+"|"+st.connID+"|"+s.api,
		ratelimit.Rule{Limit: s.perMin, Window: c.opts.RateWindow, Daily: s.daily, Flight: s.timeout})
}

func permanent(op, format string, args ...any) *platform.Error {
	return &platform.Error{Platform: Name, Op: op, Kind: platform.Permanent, Message: fmt.Sprintf(format, args...)}
}

func transient(op, format string, args ...any) *platform.Error {
	return &platform.Error{Platform: Name, Op: op, Kind: platform.Transient, Message: fmt.Sprintf(format, args...)}
}

func authErr(op, format string, args ...any) *platform.Error {
	return &platform.Error{Platform: Name, Op: op, Kind: platform.Auth, Message: fmt.Sprintf(format, args...)}
}
