// Package nuvemshop is the Nuvemshop / Tiendanube connector: batched stock and price
// pushes (PATCH /products/stock-price), variant and product writes, read-back, catalogue
// paging, webhook verification (X-Linkedstore-HMAC-SHA256), order fetch, order polling
// by update time (a safety net for lost webhooks), status, tracking and NF-e write-back
// over the REST API at {base_url}/{store_id}/..., authenticated with
// "Authentication: bearer <token>" and a User-Agent naming the app.
package nuvemshop

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
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
const Name = "nuvemshop"

// Documented defaults. The leaky bucket holds 40 requests and drains 2 a second per
// (store, app); Next/Evolution plans get ten times that (set the two settings).
// PATCH /products/stock-price takes at most 50 variants, lists at most 200 per page.
const (
	DefaultBaseURL      = "https://api.nuvemshop.com.br/v1"
	DefaultUserAgent    = "Ponte (https://github.com/ponte-hub/ponte)"
	DefaultBucket       = 40
	DefaultRatePerSec   = 2.0
	DefaultBatchSize    = 50
	MaxBatchSize        = 50
	DefaultPageSize     = 200
	MaxPageSize         = 200
	DefaultTimeout      = 10 * time.Second
	DefaultMaxWait      = 30 * time.Second
	DefaultLanguage     = "pt"
	DefaultCancelReason = "other"
	// DefaultOrderPollLag keeps the poll's window this far behind now, so an order
	// updated while a window is being read (or stamped by a clock a little ahead of
	// ours) falls in the next window instead of between two.
	DefaultOrderPollLag = time.Minute
	// DefaultOrderPollPaymentStatuses are the payment_status filters each poll window
	// is listed with. GET /orders without one lists only authorized, pending and paid
	// orders ("any"), so voided and refunded orders (most cancellations) need their own.
	DefaultOrderPollPaymentStatuses = "any,voided,refunded"
	// maxListResults is how deep GET /orders pages: page × per_page ≤ 10000 (API
	// 2025-03); a window holding more is split in halves.
	maxListResults       = 10000
	readBackIDsPerCall   = 30 // GET /products?ids= takes at most 30 ids
	maxWebhookBodyBytes  = 1 << 20
	secretAccessToken    = "access_token"
	secretAppSecret      = "app_secret"
	headerWebhookHMAC    = "X-Linkedstore-Hmac-Sha256"
	headerRateLimit      = "X-Rate-Limit-Limit"
	headerRateRemaining  = "X-Rate-Limit-Remaining"
	headerRateReset      = "X-Rate-Limit-Reset"
	defaultCurrency      = "BRL"
	defaultNotifyOnShip  = true
	defaultCancelRestock = true
)

// Options tune the connector; the zero value is ready for production.
type Options struct {
	// HTTPClient sends requests; nil means a client with a pooled transport.
	HTTPClient *http.Client
	// Now is the clock for read-back stamps; nil means time.Now. The limiter always
	// runs on the real clock (its timers do).
	Now func() time.Time
	// MaxConcurrency bounds parallel requests of one call (default 4); the
	// per-connection limiter is the real bound.
	MaxConcurrency int
	// Logger receives rate-limit events; never tokens. Nil discards.
	Logger *slog.Logger
	// Limits keeps each store's leaky bucket; nil keeps them in this process
	// (ratelimit.Local). On AWS every function shares one (ratelimit.Shared).
	Limits ratelimit.Limits
}

// Connector implements platform.Connector, platform.CatalogReader and
// platform.OrderPoller for Nuvemshop.
type Connector struct {
	secrets platform.Secrets
	opts    Options
	client  *http.Client
	log     *slog.Logger

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
		opts.MaxConcurrency = 4
	}
	if opts.Limits == nil {
		opts.Limits = ratelimit.Local{}
	}
	client := platform.HTTPClient(opts.HTTPClient, 32)
	log := platform.Logger(opts.Logger)
	return &Connector{secrets: secrets, opts: opts, client: client, log: log, conns: map[string]*connState{}}
}

// Platform returns "nuvemshop".
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

// settings are a connection's parsed settings.
type settings struct {
	api            string // base URL + "/" + store id, no trailing slash
	storeID        string
	userAgent      string
	bucket         float64
	perSec         float64
	maxWait        time.Duration
	timeout        time.Duration
	batchSize      int
	pageSize       int
	language       string
	locationID     string
	currency       string
	notifyCustomer bool
	cancelReason   string
	cancelRestock  bool
	ordersSince    time.Time // zero: the connection's creation
	orderPageSize  int
	pollLag        time.Duration
	pollPayments   []string
}

// paymentStatuses are the values GET /orders takes for payment_status.
var paymentStatuses = []string{"any", "authorized", "pending", "paid", "abandoned", "refunded", "voided"}

func (c *Connector) settings(conn domain.Connection) (settings, error) {
	var s settings
	base := strings.TrimRight(strings.TrimSpace(conn.Setting("base_url", DefaultBaseURL)), "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return s, configErr(conn, "base_url", "must be an http(s) URL")
	}
	s.storeID = strings.TrimSpace(conn.Setting("store_id", ""))
	if s.storeID == "" || !validID(s.storeID) {
		return s, configErr(conn, "store_id", "must be the numeric store id (user_id of the app's token)")
	}
	s.api = base + "/" + s.storeID
	s.userAgent = strings.TrimSpace(conn.Setting("user_agent", DefaultUserAgent))
	if strings.ContainsAny(s.userAgent, "\r\n") {
		return s, configErr(conn, "user_agent", "must be one line: app name and contact")
	}
	bucket, err := intSetting(conn, "rate_limit_bucket", DefaultBucket, 1, 100000)
	if err != nil {
		return s, err
	}
	s.bucket = float64(bucket)
	if s.perSec, err = floatSetting(conn, "rate_limit_per_sec", DefaultRatePerSec); err != nil {
		return s, err
	}
	ms, err := intSetting(conn, "max_wait_ms", int(DefaultMaxWait/time.Millisecond), 0, 24*3600*1000)
	if err != nil {
		return s, err
	}
	s.maxWait = time.Duration(ms) * time.Millisecond
	if ms, err = intSetting(conn, "timeout_ms", int(DefaultTimeout/time.Millisecond), 1, 600000); err != nil {
		return s, err
	}
	s.timeout = time.Duration(ms) * time.Millisecond
	if s.batchSize, err = intSetting(conn, "batch_size", DefaultBatchSize, 1, MaxBatchSize); err != nil {
		return s, err
	}
	if s.pageSize, err = intSetting(conn, "catalog_page_size", DefaultPageSize, 1, MaxPageSize); err != nil {
		return s, err
	}
	s.language = strings.TrimSpace(conn.Setting("language", DefaultLanguage))
	s.locationID = strings.TrimSpace(conn.Setting("location_id", ""))
	if s.notifyCustomer, err = boolSetting(conn, "notify_customer", defaultNotifyOnShip); err != nil {
		return s, err
	}
	if s.cancelRestock, err = boolSetting(conn, "cancel_restock", defaultCancelRestock); err != nil {
		return s, err
	}
	s.cancelReason = conn.Setting("cancel_reason", DefaultCancelReason)
	switch s.cancelReason {
	case "customer", "inventory", "fraud", "other":
	default:
		return s, configErr(conn, "cancel_reason", "must be customer, inventory, fraud or other")
	}
	if v := strings.TrimSpace(conn.Setting("orders_since", "")); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return s, configErr(conn, "orders_since", fmt.Sprintf("must be an RFC 3339 time, got %q", truncate(v, 40)))
		}
		s.ordersSince = t.UTC()
	}
	if s.orderPageSize, err = intSetting(conn, "order_page_size", DefaultPageSize, 1, MaxPageSize); err != nil {
		return s, err
	}
	lag, err := intSetting(conn, "order_poll_lag_seconds", int(DefaultOrderPollLag/time.Second), 0, 3600)
	if err != nil {
		return s, err
	}
	s.pollLag = time.Duration(lag) * time.Second
	for _, v := range strings.Split(conn.Setting("order_poll_payment_statuses", DefaultOrderPollPaymentStatuses), ",") {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" || slices.Contains(s.pollPayments, v) {
			continue
		}
		if !slices.Contains(paymentStatuses, v) {
			return s, configErr(conn, "order_poll_payment_statuses", fmt.Sprintf("takes a comma-separated list of %s, got %q", strings.Join(paymentStatuses, ", "), truncate(v, 40)))
		}
		s.pollPayments = append(s.pollPayments, v)
	}
	if len(s.pollPayments) == 0 {
		return s, configErr(conn, "order_poll_payment_statuses", "must name at least one payment status")
	}
	s.currency = strings.ToUpper(strings.TrimSpace(conn.Currency))
	if s.currency == "" {
		s.currency = defaultCurrency
	}
	return s, nil
}

func configErr(conn domain.Connection, name, msg string) *platform.Error {
	return permanent("config", "connection %s: setting %s %s", conn.ID, name, msg)
}

func intSetting(conn domain.Connection, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(conn.Setting(name, ""))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, configErr(conn, name, fmt.Sprintf("must be an integer from %d to %d, got %q", lo, hi, truncate(v, 40)))
	}
	return n, nil
}

func floatSetting(conn domain.Connection, name string, def float64) (float64, error) {
	v := strings.TrimSpace(conn.Setting(name, ""))
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || f > 100000 {
		return 0, configErr(conn, name, fmt.Sprintf("must be a positive number, got %q", truncate(v, 40)))
	}
	return f, nil
}

func boolSetting(conn domain.Connection, name string, def bool) (bool, error) {
	v := strings.TrimSpace(conn.Setting(name, ""))
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, configErr(conn, name, fmt.Sprintf("must be true or false, got %q", truncate(v, 40)))
	}
	return b, nil
}

// connState is what the connector keeps per connection: its leaky-bucket mirror.
type connState struct {
	connID  string
	limiter ratelimit.Slot
	calls   atomic.Int64
	tok     tokenCache
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

// limiter is the connection's leaky bucket (one per store and app, wherever Limits
// keeps it), rebuilt when its settings change. The bucket drains one request every
// 1/rate_limit_per_sec; max_wait_ms 0 means no wait at all (a nanosecond).
func (c *Connector) limiter(st *connState, s settings) ratelimit.Limiter {
	return st.limiter.Get(c.opts.Limits, Name+"|"+st.connID+"|"+s.api, ratelimit.Rule{
		Limit: 1, Window: time.Duration(min(float64(time.Second)/s.perSec, float64(24*time.Hour))), Burst: int(s.bucket),
		Flight: s.timeout, MaxWait: max(s.maxWait, time.Nanosecond)})
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

// validID accepts Nuvemshop ids: digits (letters, '-' and '_' tolerated), no path tricks.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
