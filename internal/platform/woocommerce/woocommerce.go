// Package woocommerce is the WooCommerce connector: batched stock/price/product pushes
// (products/batch and products/{id}/variations/batch), read-back, catalogue paging,
// order polling, signed webhook checks, order fetch and status write-back over the
// REST API v3 ({base_url}/wp-json/wc/v3, consumer key and secret).
package woocommerce

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
const Name = "woocommerce"

// APIPath is where the REST API v3 lives under a store's URL.
const APIPath = "/wp-json/wc/v3"

// Defaults. WooCommerce itself has no rate limit on wc/v3 (hosts and WAFs may add
// one), so the default is a conservative two requests a second; the batch limit is
// core's documented 100 items per request (filter woocommerce_rest_batch_items_limit).
const (
	DefaultRateLimitPerMin = 120
	DefaultBatchSize       = 100
	DefaultPageSize        = 100
	DefaultTimeout         = 30 * time.Second
	maxBatchSize           = 1000
	maxPageSize            = 100 // core caps per_page at 100
)

// Options tune the connector; the zero value is ready for production.
type Options struct {
	// HTTPClient sends requests; nil means a client with a pooled transport.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxConcurrency bounds parallel requests of one Push/ReadBack call (default 4);
	// the per-connection limiter is the real bound.
	MaxConcurrency int
	// RateWindow is the window rate_limit_per_min counts in (default a minute); tests
	// shrink it together with the simulator's.
	RateWindow time.Duration
	// Logger receives operational events; never credentials. Nil discards.
	Logger *slog.Logger
	// Limits holds each store's rate limit; nil keeps it in this process. On AWS every
	// function shares one (ratelimit.Shared).
	Limits ratelimit.Limits
}

// Connector implements platform.Connector for WooCommerce.
type Connector struct {
	secrets platform.Secrets
	opts    Options
	client  *http.Client
	log     *slog.Logger

	mu    sync.Mutex
	conns map[string]*connState

	calls, throttled atomic.Int64

	creds sync.Map // connection -> creds read from the secrets store
}

var (
	_ platform.Connector      = (*Connector)(nil)
	_ platform.CatalogReader  = (*Connector)(nil)
	_ platform.OrderPoller    = (*Connector)(nil)
	_ platform.OrderPollPacer = (*Connector)(nil)
)

// New builds a connector reading credentials from secrets.
func New(secrets platform.Secrets, opts Options) *Connector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = 4
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	if opts.Limits == nil {
		opts.Limits = ratelimit.Local{}
	}
	client := platform.HTTPClient(opts.HTTPClient, 32)
	// Redirects would resend credentials elsewhere (and WooCommerce answers the API
	// directly); a redirect is reported instead of followed.
	cc := *client
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	log := platform.Logger(opts.Logger)
	return &Connector{secrets: secrets, opts: opts, client: &cc, log: log, conns: make(map[string]*connState)}
}

// Platform returns "woocommerce".
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

// settings are a connection's parsed WooCommerce settings.
type settings struct {
	api         string // {base_url}/wp-json/wc/v3, no trailing slash
	queryAuth   bool   // credentials in the query string instead of basic auth
	perMin      int
	batch       int
	pageSize    int
	timeout     time.Duration
	currency    string
	costMetaKey string
	weightUnit  string
	trackNote   string // customer, private or none
	ordersSince time.Time
}

func (c *Connector) settings(conn domain.Connection) (settings, error) {
	var s settings
	base := strings.TrimRight(strings.TrimSpace(conn.Setting("base_url", "")), "/")
	if base == "" {
		return s, permanent("config", "connection %s has no base_url setting", conn.ID)
	}
	base = strings.TrimSuffix(base, APIPath)
	base = strings.TrimRight(base, "/")
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" {
		return s, permanent("config", "connection %s: setting base_url must be the store's https URL", conn.ID)
	}
	insecure, err := boolSetting(conn, "insecure_http", false)
	if err != nil {
		return s, err
	}
	if u.Scheme == "http" && !insecure {
		// Basic auth over plain HTTP would expose the keys, and WooCommerce only
		// accepts it over HTTPS (plain HTTP needs OAuth 1.0a).
		return s, permanent("config", "connection %s: setting base_url must use https (insecure_http=true only for local simulators)", conn.ID)
	}
	s.api = base + APIPath
	switch mode := strings.ToLower(strings.TrimSpace(conn.Setting("auth", "basic"))); mode {
	case "basic":
	case "query":
		s.queryAuth = true
	default:
		return s, permanent("config", "connection %s: setting auth must be basic or query, got %q", conn.ID, mode)
	}
	if s.perMin, err = intSetting(conn, "rate_limit_per_min", DefaultRateLimitPerMin, 1<<20); err != nil {
		return s, err
	}
	if s.batch, err = intSetting(conn, "batch_size", DefaultBatchSize, maxBatchSize); err != nil {
		return s, err
	}
	if s.pageSize, err = intSetting(conn, "page_size", DefaultPageSize, maxPageSize); err != nil {
		return s, err
	}
	ms, err := intSetting(conn, "timeout_ms", int(DefaultTimeout/time.Millisecond), 10*60*1000)
	if err != nil {
		return s, err
	}
	s.timeout = time.Duration(ms) * time.Millisecond
	s.currency = strings.ToUpper(strings.TrimSpace(conn.Currency))
	if s.currency == "" {
		s.currency = "BRL"
	}
	s.costMetaKey = strings.TrimSpace(conn.Setting("cost_meta_key", ""))
	if len(s.costMetaKey) > 64 {
		return s, permanent("config", "connection %s: setting cost_meta_key is too long", conn.ID)
	}
	switch s.weightUnit = strings.ToLower(strings.TrimSpace(conn.Setting("weight_unit", "kg"))); s.weightUnit {
	case "kg", "g", "lbs", "oz":
	default:
		return s, permanent("config", "connection %s: setting weight_unit must be kg, g, lbs or oz, got %q", conn.ID, s.weightUnit)
	}
	switch s.trackNote = strings.ToLower(strings.TrimSpace(conn.Setting("tracking_note", "customer"))); s.trackNote {
	case "customer", "private", "none":
	default:
		return s, permanent("config", "connection %s: setting tracking_note must be customer, private or none, got %q", conn.ID, s.trackNote)
	}
	if v := strings.TrimSpace(conn.Setting("orders_since", "")); v != "" {
		if s.ordersSince, err = time.Parse(time.RFC3339, v); err != nil {
			return s, permanent("config", "connection %s: setting orders_since must be an RFC 3339 time, got %q", conn.ID, v)
		}
		s.ordersSince = s.ordersSince.UTC()
	}
	return s, nil
}

func intSetting(conn domain.Connection, name string, def, maxV int) (int, error) {
	v := strings.TrimSpace(conn.Setting(name, ""))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > maxV {
		return 0, permanent("config", "connection %s: setting %s must be an integer from 1 to %d, got %q", conn.ID, name, maxV, v)
	}
	return n, nil
}

func boolSetting(conn domain.Connection, name string, def bool) (bool, error) {
	v := strings.TrimSpace(conn.Setting(name, ""))
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, permanent("config", "connection %s: setting %s must be true or false, got %q", conn.ID, name, v)
	}
	return b, nil
}

// connState is what the connector keeps per connection: its limiter and the batch
// size the store accepted (lowered when it answers 413).
type connState struct {
	connID  string
	limiter ratelimit.Slot
	calls   atomic.Int64
	// batchCap is the largest batch the store took since it last refused one; 0 means
	// no refusal seen.
	batchCap atomic.Int64
}

// state returns the connection's state.
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

// limiter is the store's rate limit, wherever Limits keeps it.
func (c *Connector) limiter(st *connState, s settings) ratelimit.Limiter {
	return st.limiter.Get(c.opts.Limits, Name+"|"+st.connID+"|"+s.api,
		ratelimit.Rule{Limit: s.perMin, Window: c.opts.RateWindow, Flight: s.timeout})
}

// batchSize is the configured batch size, capped by what the store last accepted.
func (st *connState) batchSize(s settings) int {
	n := s.batch
	if cp := int(st.batchCap.Load()); cp > 0 && cp < n {
		n = cp
	}
	return n
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

func permanent(op, format string, args ...any) *platform.Error {
	return &platform.Error{Platform: Name, Op: op, Kind: platform.Permanent, Message: fmt.Sprintf(format, args...)}
}

func transient(op, format string, args ...any) *platform.Error {
	return &platform.Error{Platform: Name, Op: op, Kind: platform.Transient, Message: fmt.Sprintf(format, args...)}
}

func authErr(op, format string, args ...any) *platform.Error {
	return &platform.Error{Platform: Name, Op: op, Kind: platform.Auth, Message: fmt.Sprintf(format, args...)}
}
