// Package merchantprosim simulates MerchantPro's REST API v2 for several stores on one
// listener. A real store answers on its own domain (https://www.shop.ro/api/v2/...); here
// each store lives under a host-like path prefix, so a store's base URL is
// BaseURL + "/" + storeID and its API is BaseURL + "/" + storeID + "/api/v2/...".
//
// It enforces HTTP Basic auth with the store's API key and secret (401, then 403 after
// repeated failures), a rolling-window rate limit per store (429 with Retry-After and a
// JSON error body), holds products with nested variants, orders, and applies PATCH
// writes. Faults can be injected and stock writes observed. It is built for the bench:
// no sleeps, no per-request logging, short critical sections.
package merchantprosim

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

// Defaults. MerchantPro does not publish its limit in text we could read; a third-party
// integration notes "MP limit is 4/sec", which is the default here and in the connector.
const (
	DefaultRateLimit       = 4
	DefaultRateWindow      = time.Second
	DefaultMaxFailedLogins = 5
	// MaxPageLimit is the largest "limit" a list accepts.
	MaxPageLimit = 100
)

// Options configure the simulator; zero values take the defaults above.
type Options struct {
	// RateLimit requests are admitted per store in any RateWindow.
	RateLimit  int
	RateWindow time.Duration
	// MaxFailedLogins consecutive bad credentials turn 401 into 403.
	MaxFailedLogins int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnStockWrite hears every stock change a PATCH applies (variantID empty for a
	// simple product). Called outside the store's locks.
	OnStockWrite func(store, productID, variantID string, stock int64, at time.Time)
	// OnPriceWrite hears every selling price change (price_gross).
	OnPriceWrite func(store, productID, variantID string, price decimal.Decimal, at time.Time)
}

// StoreConfig is one store's credentials and overrides.
type StoreConfig struct {
	APIKey, APISecret string
	// Zero values inherit the server's Options.
	RateLimit  int
	RateWindow time.Duration
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
	if opts.RateLimit <= 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = DefaultRateWindow
	}
	if opts.MaxFailedLogins <= 0 {
		opts.MaxFailedLogins = DefaultMaxFailedLogins
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, stores: map[string]*store{}}
}

// AddStore registers a store, replacing one with the same id.
func (s *Server) AddStore(id string, cfg StoreConfig) {
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = s.opts.RateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = s.opts.RateWindow
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
	if addr == "" || strings.HasPrefix(addr, ":") {
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

// StoreURL is a store's base_url under the simulator's base URL.
func StoreURL(baseURL, storeID string) string {
	return strings.TrimRight(baseURL, "/") + "/" + storeID
}

// Handler serves the simulated API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	storeID, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/api/v2")
	st := s.store(storeID)
	if !ok || st == nil {
		writeError(w, http.StatusNotFound, "NotFound", "unknown store")
		return
	}
	rt := route(r.Method, rest)
	if rt.endpoint == "" {
		writeError(w, http.StatusNotFound, "NotFound", "no such endpoint")
		return
	}
	now := s.opts.Now()
	v := st.admit(rt.endpoint, now)
	if v.limited {
		writeRateLimited(w, v.retryAfter)
		return
	}
	if v.fault != nil && applyFault(w, r, v.fault) {
		return
	}
	key, secret, _ := r.BasicAuth()
	switch st.checkAuth(key, secret, s.opts.MaxFailedLogins) {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="API"`)
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Invalid API credentials")
		return
	case http.StatusForbidden:
		writeError(w, http.StatusForbidden, "Forbidden", "Too many failed authentication attempts")
		return
	}
	s.serveAPI(w, r, st, rt, now)
}
