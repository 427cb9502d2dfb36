// Package shopify is the Shopify connector: stock, price and product pushes, read-back
// and catalogue paging over the GraphQL Admin API (POST {shop}/admin/api/{version}/graphql.json,
// X-Shopify-Access-Token), HMAC-checked webhooks carrying full orders, order fetch by
// GraphQL order(id:), an order poll by update time as the safety net for lost webhooks,
// and status write-back (fulfilment with tracking, cancel, mark paid, close).
//
// Mapping convention: a SKU maps to a product variant. Target.VariantID is the variant
// (GID "gid://shopify/ProductVariant/N" or bare N) and Target.ProductID its product
// (GID or N), both normalised to GIDs (NormaliseTarget), the form order lines carry; stock lives on the variant's inventory item at the connection's location,
// which the connector resolves once per variant and caches.
package shopify

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
)

// Name is the platform name used in routes and connections.
const Name = "shopify"

// Documented defaults. Restore rate 100 points/s is Shopify's Standard plan; the bucket
// size of 2000 is what Standard shops report as maximumAvailable (the connector adopts a
// lower maximumAvailable/restoreRate as soon as a response reports one).
const (
	DefaultAPIVersion      = "2026-04"
	DefaultBucketSize      = 2000
	DefaultRestoreRate     = 100
	DefaultTimeout         = 10 * time.Second
	MaxInputArray          = 250 // Shopify's cap on any GraphQL input array
	DefaultStockBatch      = 250
	DefaultReadBatch       = 100
	DefaultPriceProducts   = 25
	DefaultCatalogPageSize = 100
	MaxQueryCost           = 1000 // a single query may not request more
)

// Options tune the connector; the zero value is ready for production.
type Options struct {
	// HTTPClient sends requests; nil means a client with a pooled transport.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives cache and throttle events; never tokens. Nil discards.
	Logger *slog.Logger
	// RefreshBefore refreshes an expiring access token this long before it expires (default 2m).
	RefreshBefore time.Duration
	// StaleRetries is how often a stock write is re-read and retried after
	// CHANGE_FROM_QUANTITY_STALE (default 2).
	StaleRetries int
}

// Connector implements platform.Connector for Shopify.
type Connector struct {
	secrets platform.Secrets
	opts    Options
	client  *http.Client
	log     *slog.Logger

	mu    sync.Mutex
	conns map[string]*connState

	calls, throttled, refreshes atomic.Int64
}

var (
	_ platform.Connector     = (*Connector)(nil)
	_ platform.CatalogReader = (*Connector)(nil)
)

// New builds a connector reading credentials from secrets.
func New(secrets platform.Secrets, opts Options) *Connector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshBefore <= 0 {
		opts.RefreshBefore = 2 * time.Minute
	}
	if opts.StaleRetries <= 0 {
		opts.StaleRetries = 2
	}
	client := platform.HTTPClient(opts.HTTPClient, 64)
	log := platform.Logger(opts.Logger)
	return &Connector{secrets: secrets, opts: opts, client: client, log: log, conns: map[string]*connState{}}
}

// Platform returns "shopify".
func (c *Connector) Platform() string { return Name }

// Stats counts what the connector did since it was built.
type Stats struct {
	HTTPCalls int64 `json:"http_calls"`
	// Throttled counts THROTTLED answers and HTTP 429s.
	Throttled int64 `json:"throttled"`
	// TokenRefreshes counts refresh-token exchanges.
	TokenRefreshes int64 `json:"token_refreshes"`
}

// Stats returns the connector's counters.
func (c *Connector) Stats() Stats {
	return Stats{HTTPCalls: c.calls.Load(), Throttled: c.throttled.Load(), TokenRefreshes: c.refreshes.Load()}
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

// changeFrom modes: what a stock write sends as changeFromQuantity.
const (
	// changeFromKnown sends the quantity the connector last read or wrote, reading it
	// first when unknown, and re-reads and retries on CHANGE_FROM_QUANTITY_STALE.
	changeFromKnown = "known"
	// changeFromNone sends an explicit null: the ERP is the source of truth, skip the check.
	changeFromNone = "none"
)

// settings are a connection's parsed Shopify settings.
type settings struct {
	endpoint      string // full graphql.json URL
	origin        string // shop origin (https://acme.myshopify.com, or base_url)
	shopDomain    string
	location      string // GID, "" when not configured
	bucketSize    float64
	restoreRate   float64
	timeout       time.Duration
	stockBatch    int
	readBatch     int
	priceProducts int
	pageSize      int
	pollPageSize  int
	ordersSince   time.Time // zero: poll from the connection's creation
	changeFrom    string
	reason        string
	currency      string
	notify        bool
	cancelRefund  bool
	cancelRestock bool
	cancelReason  string
}

func (c *Connector) settings(conn domain.Connection) (settings, error) {
	var s settings
	base := strings.TrimRight(strings.TrimSpace(conn.Setting("base_url", "")), "/")
	s.shopDomain = strings.ToLower(strings.TrimSpace(conn.Setting("shop_domain", "")))
	if base == "" {
		if s.shopDomain == "" {
			return s, permanent("config", "connection %s has neither a shop_domain nor a base_url setting", conn.ID)
		}
		if strings.ContainsAny(s.shopDomain, "/?#@ ") {
			return s, permanent("config", "connection %s: setting shop_domain must be a host like acme.myshopify.com", conn.ID)
		}
		base = "https://" + s.shopDomain
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return s, permanent("config", "connection %s: setting base_url is not an http(s) URL", conn.ID)
	}
	version := strings.TrimSpace(conn.Setting("api_version", DefaultAPIVersion))
	if !validVersion(version) {
		return s, permanent("config", "connection %s: setting api_version must look like 2026-04 or unstable, got %q", conn.ID, version)
	}
	s.origin = base
	s.endpoint = base + "/admin/api/" + version + "/graphql.json"
	if loc := strings.TrimSpace(conn.Setting("location_id", "")); loc != "" {
		gid, ok := toGID("Location", loc)
		if !ok {
			return s, permanent("config", "connection %s: setting location_id must be a Location GID or number, got %q", conn.ID, loc)
		}
		s.location = gid
	}
	ints := []struct {
		name     string
		def, max int
		dst      *int
	}{
		{"stock_batch", DefaultStockBatch, MaxInputArray, &s.stockBatch},
		{"read_batch", DefaultReadBatch, MaxInputArray, &s.readBatch},
		{"price_products_per_call", DefaultPriceProducts, 50, &s.priceProducts},
		{"catalog_page_size", DefaultCatalogPageSize, MaxInputArray, &s.pageSize},
		{"order_poll_page_size", DefaultPollPageSize, MaxPollPageSize, &s.pollPageSize},
	}
	for _, it := range ints {
		if *it.dst, err = intSetting(conn, it.name, it.def, it.max); err != nil {
			return s, err
		}
	}
	var bucket, restore, ms int
	if bucket, err = intSetting(conn, "cost_bucket_size", DefaultBucketSize, 1<<20); err != nil {
		return s, err
	}
	if restore, err = intSetting(conn, "cost_restore_rate", DefaultRestoreRate, 1<<20); err != nil {
		return s, err
	}
	if ms, err = intSetting(conn, "timeout_ms", int(DefaultTimeout/time.Millisecond), 10*60*1000); err != nil {
		return s, err
	}
	s.bucketSize, s.restoreRate, s.timeout = float64(bucket), float64(restore), time.Duration(ms)*time.Millisecond
	s.changeFrom = strings.ToLower(strings.TrimSpace(conn.Setting("change_from", changeFromKnown)))
	if s.changeFrom != changeFromKnown && s.changeFrom != changeFromNone {
		return s, permanent("config", "connection %s: setting change_from must be %q or %q, got %q", conn.ID, changeFromKnown, changeFromNone, s.changeFrom)
	}
	s.reason = strings.TrimSpace(conn.Setting("inventory_reason", "correction"))
	if s.notify, err = boolSetting(conn, "notify_customer", false); err != nil {
		return s, err
	}
	if s.cancelRefund, err = boolSetting(conn, "cancel_refund", false); err != nil {
		return s, err
	}
	if s.cancelRestock, err = boolSetting(conn, "cancel_restock", true); err != nil {
		return s, err
	}
	s.cancelReason = strings.ToUpper(strings.TrimSpace(conn.Setting("cancel_reason", "OTHER")))
	switch s.cancelReason {
	case "CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF":
	default:
		return s, permanent("config", "connection %s: setting cancel_reason must be one of CUSTOMER, DECLINED, FRAUD, INVENTORY, OTHER, STAFF", conn.ID)
	}
	if v := strings.TrimSpace(conn.Setting("orders_since", "")); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return s, permanent("config", "connection %s: setting orders_since must be an RFC 3339 time, got %q", conn.ID, v)
		}
		s.ordersSince = t.UTC()
	}
	s.currency = strings.ToUpper(conn.Currency)
	if s.currency == "" {
		s.currency = "USD"
	}
	return s, nil
}

func validVersion(v string) bool {
	if v == "unstable" {
		return true
	}
	if len(v) != 7 || v[4] != '-' {
		return false
	}
	_, e1 := strconv.Atoi(v[:4])
	_, e2 := strconv.Atoi(v[5:])
	return e1 == nil && e2 == nil
}

func intSetting(conn domain.Connection, name string, def, maxV int) (int, error) {
	v := conn.Setting(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 || n > maxV {
		return 0, permanent("config", "connection %s: setting %s must be an integer from 1 to %d, got %q", conn.ID, name, maxV, v)
	}
	return n, nil
}

func boolSetting(conn domain.Connection, name string, def bool) (bool, error) {
	v := conn.Setting(name, "")
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, permanent("config", "connection %s: setting %s must be true or false, got %q", conn.ID, name, v)
	}
	return b, nil
}

// connState is what the connector keeps per connection: cost bucket and inventory cache.
type connState struct {
	connID string
	bucket atomic.Pointer[costBucket]
	calls  atomic.Int64

	tokMu sync.Mutex // serialises token loads and refreshes
	tok   *tokens

	invMu sync.Mutex
	inv   map[string]invEntry // variant GID -> inventory item and last known quantity
}

// invEntry caches a variant's inventory item and the quantity last seen or written at
// the connection's location.
type invEntry struct {
	item  string
	known bool
	qty   int64
}

func (c *Connector) state(conn domain.Connection, s settings) *connState {
	key := conn.ID + "|" + s.endpoint + "|" + s.location
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.conns[key]
	if !ok {
		st = &connState{connID: conn.ID, inv: map[string]invEntry{}}
		c.conns[key] = st
	}
	if b := st.bucket.Load(); b == nil || b.cfgSize != s.bucketSize || b.cfgRate != s.restoreRate {
		st.bucket.Store(newCostBucket(s.bucketSize, s.restoreRate, time.Now))
	}
	return st
}

func (st *connState) lookup(variant string) (invEntry, bool) {
	st.invMu.Lock()
	defer st.invMu.Unlock()
	e, ok := st.inv[variant]
	return e, ok
}

func (st *connState) remember(variant string, e invEntry) {
	st.invMu.Lock()
	st.inv[variant] = e
	st.invMu.Unlock()
}

func (st *connState) forget(variant string) {
	st.invMu.Lock()
	delete(st.inv, variant)
	st.invMu.Unlock()
}

// toGID turns "123" or "gid://shopify/Kind/123" into the GID of kind; false when the
// value is neither.
func toGID(kind, v string) (string, bool) {
	v = strings.TrimSpace(v)
	prefix := "gid://shopify/" + kind + "/"
	id := strings.TrimPrefix(v, prefix)
	if id == "" || len(id) > 32 {
		return "", false
	}
	if strings.HasPrefix(v, "gid://") && !strings.HasPrefix(v, prefix) {
		return "", false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return prefix + id, true
}

// numericID returns the number at the end of a GID (or the value when it is a number).
func numericID(gid string) string {
	if i := strings.LastIndexByte(gid, '/'); i >= 0 {
		return gid[i+1:]
	}
	return gid
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
