// Package traysim simulates Tray's REST API for several stores on one listener, under
// /{storeID}/web_api/...: token issue and refresh, per-store rate limits, products,
// variants, orders and statuses, with fault injection and observation hooks for tests,
// the demo and the bench. It is built to be fast: no sleeps or logging per request.
package traysim

import (
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Options configure the simulator; zero values take Tray's documented defaults.
type Options struct {
	// RateLimitPerMin is each store's rolling-minute limit (default 180).
	RateLimitPerMin int
	// RateWindow is the rolling window of RateLimitPerMin (default a minute, as Tray
	// counts); tests shrink it to exercise limits quickly.
	RateWindow time.Duration
	// DailyLimit is each store's per-day (UTC) limit (default 10000).
	DailyLimit int
	// AccessTTL and RefreshTTL are token lifetimes (defaults 3h and 30 days).
	AccessTTL, RefreshTTL time.Duration
	// Now is the clock for tokens and limits; nil means time.Now.
	Now func() time.Time
	// KeepPuts is how many PUT records each store keeps (default 1000, newest kept).
	KeepPuts int
	// OnStockWrite is called when a PUT changes a stock (variantID empty for products).
	OnStockWrite func(store, productID, variantID string, stock int64, at time.Time)
	// OnPriceWrite is called when a PUT changes the selling price (promotional when set).
	OnPriceWrite func(store, productID, variantID string, price decimal.Decimal, at time.Time)
}

// StoreConfig is one store's credentials and overrides.
type StoreConfig struct {
	ConsumerKey, ConsumerSecret, Code string
	// Zero values inherit the server's Options.
	RateLimitPerMin, DailyLimit int
	AccessTTL, RefreshTTL       time.Duration
}

// StoreStatus drives Tray's 401 error codes.
type StoreStatus int

const (
	StoreActive    StoreStatus = iota
	StoreBlocked               // error_code 1001
	StoreInactive              // error_code 1002
	StoreCancelled             // error_code 1003
)

// Server is the simulator.
type Server struct {
	opts   Options
	mu     sync.RWMutex
	stores map[string]*store
	srv    *http.Server
	sp     *time.Location // Tray's time zone, for token dates
}

// New builds a simulator with no stores.
func New(opts Options) *Server {
	if opts.RateLimitPerMin <= 0 {
		opts.RateLimitPerMin = 180
	}
	if opts.DailyLimit <= 0 {
		opts.DailyLimit = 10000
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	if opts.AccessTTL <= 0 {
		opts.AccessTTL = 3 * time.Hour
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = 30 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeepPuts <= 0 {
		opts.KeepPuts = 1000
	}
	sp, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		sp = time.FixedZone("BRT", -3*60*60) // no DST since 2019
	}
	return &Server{opts: opts, stores: make(map[string]*store), sp: sp}
}

// AddStore registers a store (replacing one with the same id) with default statuses.
func (s *Server) AddStore(id string, cfg StoreConfig) {
	if cfg.RateLimitPerMin <= 0 {
		cfg.RateLimitPerMin = s.opts.RateLimitPerMin
	}
	if cfg.DailyLimit <= 0 {
		cfg.DailyLimit = s.opts.DailyLimit
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = s.opts.AccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = s.opts.RefreshTTL
	}
	st := newStore(id, cfg)
	s.mu.Lock()
	s.stores[id] = st
	s.mu.Unlock()
}

func (s *Server) store(id string) *store {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stores[id]
}

// Start listens on addr (":0" picks a port; always loopback) and returns the base URL;
// a store's api_address is BaseURL + "/" + store + "/web_api".
func (s *Server) Start(addr string) (string, error) {
	if strings.HasPrefix(addr, ":") || addr == "" {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)} // injected truncations would spam it
	go func() { _ = s.srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener started by Start and drops open connections at once
// (a graceful shutdown would wait on idle keep-alive dials).
func (s *Server) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// APIAddress is a store's api_address under baseURL.
func APIAddress(baseURL, store string) string {
	return strings.TrimRight(baseURL, "/") + "/" + store + "/web_api"
}

// Handler serves the simulated API (for httptest or an existing server).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	storeID, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/web_api")
	st := s.store(storeID)
	if !ok || st == nil {
		writeError(w, http.StatusNotFound, "Not Found", "unknown store", 0)
		return
	}
	rt := route(r.Method, rest)
	if rt.endpoint == "" {
		writeError(w, http.StatusNotFound, "Not Found", "no such endpoint", 0)
		return
	}
	now := s.opts.Now()
	verdict := st.admit(rt.endpoint, now, s.opts.RateWindow)
	switch {
	case verdict.dailyExceeded:
		writeLimit(w, "Daily request limit exceeded", 0)
		return
	case verdict.minuteExceeded:
		writeLimit(w, "Too Many Requests", verdict.retryAfter)
		return
	}
	if f := verdict.fault; f != nil {
		if done := applyFault(w, r, f); done {
			return
		}
	}
	if rt.endpoint == epAuthGrant || rt.endpoint == epAuthRefresh {
		s.serveAuth(w, r, st, rt.endpoint, now)
		return
	}
	if code := st.checkToken(r.URL.Query().Get("access_token"), now); code != 0 {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Token expired or invalid", code)
		return
	}
	s.serveAPI(w, r, st, rt, now)
}
