// Package merchantpro is the MerchantPro (Romania) connector: stock/price/product pushes
// through PATCH /api/v2/products/{id} (variants nested in the product body), read-back,
// catalogue paging, webhook checks, order fetch and status write-back, over the REST API
// v2 on the store's own domain with HTTP Basic auth (API key and secret).
package merchantpro

import (
	"context"
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
const Name = "merchantpro"

// Defaults. MerchantPro's "Limits of an API Key" text was not available; a third-party
// integration states "MP limit is 4/sec", so the limit is a setting with that default.
const (
	DefaultRateLimit     = 4
	DefaultRateWindow    = time.Second
	DefaultTimeout       = 15 * time.Second
	DefaultMaxVariants   = 50
	DefaultPageSize      = 100 // the API's maximum "limit"
	DefaultCurrency      = "RON"
	DefaultPriceMode     = "gross"
	secretCacheTTL       = 5 * time.Minute
	maxPageSize          = 100
	maxVariantsPerPatch  = 500
	defaultMaxConcurrent = 8
)

// Options tune the connector; the zero value is ready for production.
type Options struct {
	// HTTPClient sends requests; nil means a client with a pooled transport.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxConcurrency bounds parallel requests of one call (default 8); the
	// per-connection limiter is the real bound.
	MaxConcurrency int
	// Logger receives credential lifecycle events, never secrets. Nil discards.
	Logger *slog.Logger
	// Limits holds each shop's rate limit; nil keeps it in this process. On AWS every
	// function shares one (ratelimit.Shared).
	Limits ratelimit.Limits
}

// Connector implements platform.Connector (plus CatalogReader and OrderPoller) for MerchantPro.
type Connector struct {
	secrets platform.Secrets
	opts    Options
	client  *http.Client
	log     *slog.Logger
	loc     *time.Location

	mu    sync.Mutex
	conns map[string]*connState

	calls, throttled atomic.Int64
}

var (
	_ platform.Connector     = (*Connector)(nil)
	_ platform.CatalogReader = (*Connector)(nil)
	_ platform.OrderPoller   = (*Connector)(nil)
)

// New builds a connector reading credentials from secrets.
func New(secrets platform.Secrets, opts Options) *Connector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = defaultMaxConcurrent
	}
	if opts.Limits == nil {
		opts.Limits = ratelimit.Local{}
	}
	client := platform.HTTPClient(opts.HTTPClient, 64)
	// Never follow redirects: a redirect to another host would carry Basic credentials
	// along, and a shop answering the API with a redirect is misconfigured anyway.
	cp := *client
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	log := platform.Logger(opts.Logger)
	return &Connector{secrets: secrets, opts: opts, client: &cp, log: log, loc: bucharest(),
		conns: map[string]*connState{}}
}

// Platform returns "merchantpro".
func (c *Connector) Platform() string { return Name }

// Stats counts what the connector did since it was built.
type Stats struct {
	HTTPCalls   int64 `json:"http_calls"`
	RateLimited int64 `json:"rate_limited"`
}

// Stats returns the connector's counters.
func (c *Connector) Stats() Stats {
	return Stats{HTTPCalls: c.calls.Load(), RateLimited: c.throttled.Load()}
}

// settings are a connection's parsed MerchantPro settings.
type settings struct {
	base        string // scheme://host[/prefix], no trailing slash
	limit       int
	window      time.Duration
	timeout     time.Duration
	maxVariants int
	pageSize    int
	gross       bool // write and read price_gross (VAT included) rather than price_net
	currency    string
	ordersFrom  int // PollOrders start offset when the cursor is empty
	// ordersSince: the poll imports no order created before it (the orders_since setting,
	// else the connection's creation; zero imports all).
	ordersSince time.Time
}

// Setting names.
const (
	SettingBaseURL     = "base_url"
	SettingRateLimit   = "rate_limit"
	SettingRateWindow  = "rate_window_ms"
	SettingTimeout     = "timeout_ms"
	SettingMaxVariants = "max_variants_per_patch"
	SettingPageSize    = "page_size"
	SettingPriceMode   = "price_mode"
	SettingOrdersStart = "orders_start"
	SettingOrdersSince = "orders_since"
)

func (c *Connector) settings(conn domain.Connection) (settings, error) {
	var s settings
	raw := strings.TrimSpace(conn.Setting(SettingBaseURL, ""))
	if raw == "" {
		return s, permanent("config", "connection %s has no %s setting (the shop's https URL)", conn.ID, SettingBaseURL)
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return s, permanent("config", "connection %s: setting %s must be the shop's URL like https://www.shop.ro", conn.ID, SettingBaseURL)
	}
	s.base = strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
	s.base = strings.TrimSuffix(s.base, "/api/v2")
	if s.limit, err = intSetting(conn, SettingRateLimit, DefaultRateLimit, 1, 1_000_000); err != nil {
		return s, err
	}
	ms, err := intSetting(conn, SettingRateWindow, int(DefaultRateWindow/time.Millisecond), 1, 24*3600*1000)
	if err != nil {
		return s, err
	}
	s.window = time.Duration(ms) * time.Millisecond
	if ms, err = intSetting(conn, SettingTimeout, int(DefaultTimeout/time.Millisecond), 1, 600_000); err != nil {
		return s, err
	}
	s.timeout = time.Duration(ms) * time.Millisecond
	if s.maxVariants, err = intSetting(conn, SettingMaxVariants, DefaultMaxVariants, 1, maxVariantsPerPatch); err != nil {
		return s, err
	}
	if s.pageSize, err = intSetting(conn, SettingPageSize, DefaultPageSize, 1, maxPageSize); err != nil {
		return s, err
	}
	switch mode := strings.ToLower(strings.TrimSpace(conn.Setting(SettingPriceMode, DefaultPriceMode))); mode {
	case "gross":
		s.gross = true
	case "net":
	default:
		return s, permanent("config", "connection %s: setting %s must be gross or net, got %q", conn.ID, SettingPriceMode, mode)
	}
	if v := conn.Setting(SettingOrdersStart, ""); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return s, permanent("config", "connection %s: setting %s must be a non-negative integer, got %q", conn.ID, SettingOrdersStart, v)
		}
		s.ordersFrom = n
	}
	// A new connection polls from its creation, not the shop's whole history: the order
	// list has no date filter, so the poll skips what was created before. Order dates are
	// whole seconds: a sale in the connection's first second still counts.
	s.ordersSince = conn.CreatedAt.UTC().Truncate(time.Second)
	if v := strings.TrimSpace(conn.Setting(SettingOrdersSince, "")); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return s, permanent("config", "connection %s: setting %s must be an RFC 3339 time, got %q", conn.ID, SettingOrdersSince, v)
		}
		s.ordersSince = t.UTC()
	}
	s.currency = strings.ToUpper(strings.TrimSpace(conn.Currency))
	if s.currency == "" {
		s.currency = DefaultCurrency
	}
	return s, nil
}

func intSetting(conn domain.Connection, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(conn.Setting(name, ""))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, permanent("config", "connection %s: setting %s must be an integer from %d to %d, got %q", conn.ID, name, lo, hi, v)
	}
	return n, nil
}

// creds are a connection's API user.
type creds struct {
	key, secret string
}

// connState is what the connector keeps per connection: its limiter and cached credentials.
type connState struct {
	connID  string
	limiter ratelimit.Slot

	credMu  sync.Mutex
	cred    creds
	credAt  time.Time
	hasCred bool
}

// state returns the connection's state.
func (c *Connector) state(conn domain.Connection, s settings) *connState {
	key := conn.ID + "|" + s.base
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.conns[key]
	if !ok {
		st = &connState{connID: conn.ID}
		c.conns[key] = st
	}
	return st
}

// limiter is the shop's rate limit, wherever Limits keeps it.
func (c *Connector) limiter(st *connState, s settings) ratelimit.Limiter {
	return st.limiter.Get(c.opts.Limits, Name+"|"+st.connID+"|"+s.base,
		ratelimit.Rule{Limit: s.limit, Window: s.window, Flight: s.timeout})
}

// credentials returns the API key and secret, from cache unless reload is set.
func (c *Connector) credentials(ctx context.Context, conn domain.Connection, st *connState, reload bool) (creds, error) {
	st.credMu.Lock()
	defer st.credMu.Unlock()
	if st.hasCred && !reload && c.opts.Now().Sub(st.credAt) < secretCacheTTL {
		return st.cred, nil
	}
	if conn.SecretRef == "" {
		return creds{}, authErr("credentials", "connection %s has no secret_ref", conn.ID)
	}
	vals, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return creds{}, transient("credentials", "reading the connection's secret: %v", err)
	}
	cr := creds{key: strings.TrimSpace(vals["api_key"]), secret: strings.TrimSpace(vals["api_secret"])}
	if cr.key == "" || cr.secret == "" {
		return creds{}, authErr("credentials", "the connection's secret has no api_key or api_secret")
	}
	if strings.Contains(cr.key, ":") {
		return creds{}, authErr("credentials", "api_key cannot contain ':' (HTTP Basic auth)")
	}
	if st.hasCred && st.cred != cr {
		c.log.Info("merchantpro credentials changed", "connection", conn.ID)
	}
	st.cred, st.credAt, st.hasCred = cr, c.opts.Now(), true
	return cr, nil
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

// bucharest is the shops' time zone (order dates without an offset are read in it).
func bucharest() *time.Location {
	if loc, err := time.LoadLocation("Europe/Bucharest"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*60*60) // no zone database: winter offset
}
