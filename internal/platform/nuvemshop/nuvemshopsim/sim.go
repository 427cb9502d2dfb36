// Package nuvemshopsim simulates the Nuvemshop / Tiendanube REST API for several
// stores on one listener, under /v1/{store_id}/...: bearer tokens in the
// "Authentication" header, a mandatory User-Agent, the per-store leaky bucket (40
// requests draining 2 a second by default) with x-rate-limit-* headers and 429s,
// products and variants (PATCH /products/stock-price batches of at most 50 variants,
// variant and product PUTs, paged listing), orders (served verbatim as added, listed
// by GET /orders with its filters and paging) and their actions, order metafields
// (the NF-e list), signed thin webhook deliveries, with fault
// injection and a stock observer for tests, the demo and the bench. It is built to be
// fast: no sleeps (except injected hangs), no logging per request, short locks.
package nuvemshopsim

import (
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Documented defaults.
const (
	DefaultBucket   = 40
	DefaultPerSec   = 2.0
	DefaultMaxBatch = 50
)

// Endpoint names used by the counters.
const (
	EpProducts    = "GET /products"
	EpProductGet  = "GET /products/{id}"
	EpProductPut  = "PUT /products/{id}"
	EpStockPrice  = "PATCH /products/stock-price"
	EpVariantGet  = "GET /products/{id}/variants/{vid}"
	EpVariantPut  = "PUT /products/{id}/variants/{vid}"
	EpOrderGet    = "GET /orders/{id}"
	EpOrderAction = "POST /orders/{id}/{action}"
	EpOrders      = "GET /orders"
	EpMetafields  = "GET /metafields/{owner_resource}"
	EpMetafieldPo = "POST /metafields"
	EpMetafieldPu = "PUT /metafields/{id}"
)

// writeEndpoints write stock, price or product data.
var writeEndpoints = map[string]bool{EpProductPut: true, EpStockPrice: true, EpVariantPut: true}

// Options configure the simulator; zero values take the documented defaults.
type Options struct {
	// Bucket and PerSec are each store's leaky bucket (40 and 2/s).
	Bucket int
	PerSec float64
	// MaxBatch is the most variants PATCH /products/stock-price takes (50).
	MaxBatch int
	// Now is the clock for limits; nil means time.Now.
	Now func() time.Time
	// KeepWrites is how many write records each store keeps (default 1000, newest kept).
	KeepWrites int
	// OnStockWrite is called when a write changes a variant's stock.
	OnStockWrite func(store, productID, variantID string, stock int64, at time.Time)
}

// StoreConfig is one store's credentials and limits (zero values inherit Options).
type StoreConfig struct {
	AccessToken string
	AppSecret   string
	Bucket      int
	PerSec      float64
}

// Server is the simulator.
type Server struct {
	opts   Options
	mu     sync.RWMutex
	stores map[string]*store
	srv    *http.Server
}

// New builds a simulator with no stores.
func New(opts Options) *Server {
	if opts.Bucket <= 0 {
		opts.Bucket = DefaultBucket
	}
	if opts.PerSec <= 0 {
		opts.PerSec = DefaultPerSec
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeepWrites <= 0 {
		opts.KeepWrites = 1000
	}
	return &Server{opts: opts, stores: map[string]*store{}}
}

// AddStore registers a store (replacing one with the same id).
func (s *Server) AddStore(id string, cfg StoreConfig) {
	if cfg.Bucket <= 0 {
		cfg.Bucket = s.opts.Bucket
	}
	if cfg.PerSec <= 0 {
		cfg.PerSec = s.opts.PerSec
	}
	st := &store{id: id, cfg: cfg, token: cfg.AccessToken, calls: map[string]int64{},
		products: map[string]*Product{}, variants: map[string]*Variant{}, orders: map[string]map[string]any{},
		raws: map[string][]byte{}, rejects: map[string]string{}}
	s.mu.Lock()
	s.stores[id] = st
	s.mu.Unlock()
}

func (s *Server) store(id string) *store {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stores[id]
}

// Start listens on addr (":0" picks a port; always loopback) and returns the base URL.
// A store's base_url setting is BaseURL(base) and its store_id the store's id.
func (s *Server) Start(addr string) (string, error) {
	if strings.HasPrefix(addr, ":") || addr == "" {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = s.srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener and drops open connections.
func (s *Server) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// BaseURL is the connector's base_url setting for a simulator at base.
func BaseURL(base string) string { return strings.TrimRight(base, "/") + "/v1" }

// Handler serves the simulated API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// CallStats are a store's request counters.
type CallStats struct {
	Total int64
	// RateLimited counts 429s from the bucket (injected 429s count under Faults).
	RateLimited int64
	Faults      int64
	// Writes counts admitted requests to write endpoints (a batch counts once).
	Writes     int64
	ByEndpoint map[string]int64
}

// Calls returns a store's request counters.
func (s *Server) Calls(storeID string) CallStats {
	st := s.store(storeID)
	if st == nil {
		return CallStats{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := CallStats{Total: st.total, RateLimited: st.throttled, Faults: st.faulted, Writes: st.writes, ByEndpoint: map[string]int64{}}
	for k, v := range st.calls {
		out.ByEndpoint[k] = v
	}
	return out
}

// RevokeToken makes the store answer 401 to its current token; SetToken installs a new one
// (as a reinstall of the app does).
func (s *Server) RevokeToken(storeID string) { s.SetToken(storeID, "") }

// SetToken replaces the store's valid access token.
func (s *Server) SetToken(storeID, token string) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		st.token = token
		st.mu.Unlock()
	}
}

type store struct {
	id  string
	cfg StoreConfig

	// mu guards per-request control state: bucket, counters, faults, token.
	mu        sync.Mutex
	level     float64
	at        time.Time
	token     string
	faults    []Fault
	calls     map[string]int64
	total     int64
	throttled int64
	faulted   int64
	writes    int64

	// data guards the catalogue and orders.
	data     sync.Mutex
	products map[string]*Product
	order    []string // product ids in creation order
	variants map[string]*Variant
	orders   map[string]map[string]any
	raws     map[string][]byte // order bodies served verbatim until the order changes
	metas    []*Metafield
	metaSeq  int64
	records  []WriteRecord
	rejects  map[string]string // variant id -> validation message
}

type verdict struct {
	limited    bool
	level      float64
	fault      *Fault
	authorized bool
}

// admit counts a request, pours it into the bucket (or refuses it when full), takes
// the next fault and checks the token. One short critical section.
func (st *store) admit(endpoint, token string, now time.Time) verdict {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.total++
	st.calls[endpoint]++
	if !st.at.IsZero() && now.After(st.at) {
		st.level = math.Max(0, st.level-now.Sub(st.at).Seconds()*st.cfg.PerSec)
	}
	if now.After(st.at) {
		st.at = now
	}
	if st.level+1 > float64(st.cfg.Bucket)+1e-9 {
		st.throttled++
		return verdict{limited: true, level: st.level}
	}
	st.level++
	v := verdict{level: st.level, authorized: st.token != "" && token == st.token}
	if writeEndpoints[endpoint] {
		st.writes++
	}
	if len(st.faults) > 0 {
		f := st.faults[0]
		if st.faults[0].Count--; st.faults[0].Count <= 0 {
			st.faults = st.faults[1:]
		}
		st.faulted++
		v.fault = &f
	}
	return v
}

// rateHeaders sets x-rate-limit-limit, -remaining (free room) and -reset (ms until empty).
func (st *store) rateHeaders(w http.ResponseWriter, level float64) {
	h := w.Header()
	h.Set("x-rate-limit-limit", strconv.Itoa(st.cfg.Bucket))
	h.Set("x-rate-limit-remaining", strconv.Itoa(max(0, int(math.Floor(float64(st.cfg.Bucket)-level)))))
	h.Set("x-rate-limit-reset", strconv.Itoa(int(math.Ceil(level/st.cfg.PerSec*1000))))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	storeID, path, _ := strings.Cut(rest, "/")
	st := s.store(storeID)
	if !ok || st == nil {
		writeError(w, http.StatusNotFound, "Not Found", "Store not found")
		return
	}
	rt := route(r.Method, "/"+path)
	if rt.endpoint == "" {
		writeError(w, http.StatusNotFound, "Not Found", "Resource not found")
		return
	}
	now := s.opts.Now()
	token := bearer(r)
	v := st.admit(rt.endpoint, token, now)
	st.rateHeaders(w, v.level)
	if v.limited {
		writeError(w, http.StatusTooManyRequests, "Too Many Requests", "Rate limit exceeded")
		return
	}
	if v.fault != nil && applyFault(w, r, v.fault) {
		return
	}
	if token == "" {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Required access token is missing")
		return
	}
	if !v.authorized {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Invalid access token")
		return
	}
	if strings.TrimSpace(r.UserAgent()) == "" || strings.HasPrefix(r.UserAgent(), "Go-http-client") {
		writeError(w, http.StatusBadRequest, "Bad Request", "A User-Agent header naming the app and a contact is required")
		return
	}
	s.serveAPI(w, r, st, rt, now)
}

// bearer reads "Authentication: bearer T" (documented) or "Authorization: Bearer T".
func bearer(r *http.Request) string {
	v := r.Header.Get("Authentication")
	if v == "" {
		v = r.Header.Get("Authorization")
	}
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = v[7:]
	}
	return strings.TrimSpace(v)
}

type routed struct {
	endpoint string
	id, vid  string
	action   string
}

func route(method, path string) routed {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	n := len(seg)
	switch {
	case n == 1 && seg[0] == "products" && method == http.MethodGet:
		return routed{endpoint: EpProducts}
	case n == 2 && seg[0] == "products" && seg[1] == "stock-price" && method == http.MethodPatch:
		return routed{endpoint: EpStockPrice}
	case n == 2 && seg[0] == "products" && method == http.MethodGet:
		return routed{endpoint: EpProductGet, id: seg[1]}
	case n == 2 && seg[0] == "products" && method == http.MethodPut:
		return routed{endpoint: EpProductPut, id: seg[1]}
	case n == 4 && seg[0] == "products" && seg[2] == "variants" && method == http.MethodGet:
		return routed{endpoint: EpVariantGet, id: seg[1], vid: seg[3]}
	case n == 4 && seg[0] == "products" && seg[2] == "variants" && method == http.MethodPut:
		return routed{endpoint: EpVariantPut, id: seg[1], vid: seg[3]}
	case n == 2 && seg[0] == "orders" && method == http.MethodGet:
		return routed{endpoint: EpOrderGet, id: seg[1]}
	case n == 3 && seg[0] == "orders" && method == http.MethodPost:
		return routed{endpoint: EpOrderAction, id: seg[1], action: seg[2]}
	case n == 1 && seg[0] == "orders" && method == http.MethodGet:
		return routed{endpoint: EpOrders}
	case n == 2 && seg[0] == "metafields" && method == http.MethodGet:
		return routed{endpoint: EpMetafields, id: seg[1]}
	case n == 1 && seg[0] == "metafields" && method == http.MethodPost:
		return routed{endpoint: EpMetafieldPo}
	case n == 2 && seg[0] == "metafields" && method == http.MethodPut:
		return routed{endpoint: EpMetafieldPu, id: seg[1]}
	}
	return routed{}
}

// Product is what the simulator holds for a product.
type Product struct {
	ID          string
	Name        string
	Description string
	Brand       string
	Published   bool
	Variants    []string
}

// Variant is what the simulator holds for a variant. Nil Stock is unlimited; nil
// PromotionalPrice and Cost are unset.
type Variant struct {
	ID, ProductID    string
	SKU, Barcode     string
	Weight           string
	Price            decimal.Decimal
	PromotionalPrice *decimal.Decimal
	Cost             *decimal.Decimal
	Stock            *int64
}

// WriteRecord is one admitted write request.
type WriteRecord struct {
	Endpoint string
	Path     string
	Body     []byte
	Status   int
	At       time.Time
}

// RejectVariant makes every write that touches the variant fail validation (422) with
// msg, as a store rule would; a stock-price batch containing it is refused as a whole.
func (s *Server) RejectVariant(storeID, variantID, msg string) {
	if st := s.store(storeID); st != nil {
		st.data.Lock()
		st.rejects[variantID] = msg
		st.data.Unlock()
	}
}
