// Package woocommercesim simulates the WooCommerce REST API v3 for several stores on
// one listener, each under /{store}/wp-json/wc/v3/... (a store's base_url is
// BaseURL/{store}): consumer key/secret auth (basic or query string), a configurable
// per-store rate limit (WooCommerce has none of its own; hosts add one), products,
// variations, batch writes with core's 100-item limit and per-item errors, orders and
// notes, with fault injection and observation hooks for tests, the demo and the bench.
// It is built to be fast: no sleeps or logging per request, short locks.
package woocommercesim

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

// APIPath is the REST API root under a store's base URL.
const APIPath = "/wp-json/wc/v3"

// Options configure the simulator; zero values take the defaults.
type Options struct {
	// RateLimitPerMin is each store's limit per RateWindow (default 120, the
	// connector's default).
	RateLimitPerMin int
	// RateWindow is the rolling window of the limit (default a minute).
	RateWindow time.Duration
	// BatchLimit is the most create+update+delete items a batch takes (default 100).
	BatchLimit int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnStockWrite is called when a write changes a stock (variantID empty for products).
	OnStockWrite func(store, productID, variantID string, stock int64, at time.Time)
	// OnPriceWrite is called when a write changes the active price.
	OnPriceWrite func(store, productID, variantID string, price decimal.Decimal, at time.Time)
}

// StoreConfig is one store's credentials and overrides.
type StoreConfig struct {
	ConsumerKey, ConsumerSecret string
	// RateLimitPerMin zero inherits Options.RateLimitPerMin.
	RateLimitPerMin int
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
	if opts.RateLimitPerMin <= 0 {
		opts.RateLimitPerMin = 120
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	if opts.BatchLimit <= 0 {
		opts.BatchLimit = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, stores: make(map[string]*store)}
}

// AddStore registers a store (replacing one with the same id).
func (s *Server) AddStore(id string, cfg StoreConfig) {
	if cfg.RateLimitPerMin <= 0 {
		cfg.RateLimitPerMin = s.opts.RateLimitPerMin
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

// Start listens on addr (":0" picks a port; always loopback) and returns the base URL.
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

// Close stops the listener and drops open connections.
func (s *Server) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// StoreURL is a store's base_url under baseURL.
func StoreURL(baseURL, store string) string {
	return strings.TrimRight(baseURL, "/") + "/" + store
}

// Handler serves the simulated API (for httptest or an existing server).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	storeID, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), APIPath)
	st := s.store(storeID)
	if !ok || st == nil {
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
		return
	}
	rt := route(r.Method, rest)
	now := s.opts.Now()
	v := st.admit(rt.endpoint, now, s.opts.RateWindow)
	if v.limited {
		writeLimit(w, v.retryAfter, st.cfg.RateLimitPerMin)
		return
	}
	if f := v.fault; f != nil {
		if done := applyFault(w, r, f); done {
			return
		}
	}
	if code, msg := st.authenticate(r); code != "" {
		writeError(w, http.StatusUnauthorized, code, msg)
		return
	}
	if rt.endpoint == "" {
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
		return
	}
	s.serveAPI(w, r, st, rt, now)
}
