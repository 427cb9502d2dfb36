// Package mercossim simulates Mercos' REST API for several companies on one listener:
// like Mercos, every store shares the host and is told apart by its CompanyToken header
// (with the integrator's ApplicationToken). It enforces the per-token-pair limit (a
// rolling window, and one request at a time), answers 429 with Mercos' body, pages lists
// by alterado_apos with MEUSPEDIDOS_LIMITOU_REGISTROS, holds products (with grid
// children), categories, clients and orders, applies writes, counts calls, and injects
// faults. It is built to be fast: no sleeps or logging per request, short locks.
package mercossim

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

// Options configure the simulator; zero values take the documented defaults.
type Options struct {
	// RateLimitPerMin is each token pair's limit per RateWindow (default 10).
	RateLimitPerMin int
	// RateWindow is the rolling window of the limit (default a minute).
	RateWindow time.Duration
	// AllowConcurrent admits overlapping requests of one token pair; by default a
	// request arriving while another is in flight gets 429 (Mercos serves a pair
	// one request at a time).
	AllowConcurrent bool
	// PageSize is how many records a list returns before setting
	// MEUSPEDIDOS_LIMITOU_REGISTROS (default 500; registros_por_pagina may lower it).
	PageSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ExclusiveAfter reads alterado_apos as "changed after" (>) instead of the default
	// "at or after" (>=); which one Mercos applies is not documented.
	ExclusiveAfter bool
	// OnStockWrite hears every stock value a store applies, when it changes
	// (variantID is the grid child, productID its parent; variantID empty otherwise).
	OnStockWrite func(store, productID, variantID string, stock int64, at time.Time)
}

// StoreConfig is one company's credentials and overrides.
type StoreConfig struct {
	ApplicationToken, CompanyToken string
	// RateLimitPerMin overrides Options.RateLimitPerMin when positive.
	RateLimitPerMin int
	// OpaqueBatchErrors leaves product ids out of batch validation messages (so a
	// client must find the bad item by itself).
	OpaqueBatchErrors bool
	// StockControlOff makes stock adjustments fail with 422, as Mercos does when the
	// account does not control stock.
	StockControlOff bool
}

// Server is the simulator.
type Server struct {
	opts    Options
	mu      sync.RWMutex
	stores  map[string]*store
	byToken map[string]*store
	srv     *http.Server
	sp      *time.Location
}

// New builds a simulator with no stores.
func New(opts Options) *Server {
	if opts.RateLimitPerMin <= 0 {
		opts.RateLimitPerMin = 10
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sp, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		sp = time.FixedZone("BRT", -3*60*60)
	}
	return &Server{opts: opts, stores: map[string]*store{}, byToken: map[string]*store{}, sp: sp}
}

// AddStore registers a company (replacing one with the same id).
func (s *Server) AddStore(id string, cfg StoreConfig) {
	if cfg.RateLimitPerMin <= 0 {
		cfg.RateLimitPerMin = s.opts.RateLimitPerMin
	}
	st := newStore(id, cfg)
	s.mu.Lock()
	if old := s.stores[id]; old != nil {
		delete(s.byToken, old.cfg.CompanyToken)
	}
	s.stores[id] = st
	s.byToken[cfg.CompanyToken] = st
	s.mu.Unlock()
}

func (s *Server) store(id string) *store {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stores[id]
}

// Start listens on addr (":0" picks a port; always loopback) and returns the base URL;
// the API lives under BaseURL + "/api" (see APIBase).
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

// APIBase is the base_url setting for a simulator started at baseURL.
func APIBase(baseURL string) string { return strings.TrimRight(baseURL, "/") + "/api" }

// Handler serves the simulated API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// out is a response computed before it is written, so the in-flight slot is freed
// before the client can see the answer and send its next request.
type out struct {
	status int
	header map[string]string
	body   []byte
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	st := s.byToken[r.Header.Get("CompanyToken")]
	s.mu.RUnlock()
	if st == nil {
		write(w, unauthorized())
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api")
	rt := route(r.Method, rest)
	if !ok || rt.endpoint == "" {
		write(w, out{status: http.StatusNotFound, body: []byte(`{"mensagem":"Recurso não encontrado"}`)})
		return
	}
	now := s.opts.Now()
	v := st.admit(rt.endpoint, r.Header.Get("ApplicationToken"), now, s.opts.RateWindow, !s.opts.AllowConcurrent)
	if v.reply != nil {
		write(w, *v.reply)
		return
	}
	if f := v.fault; f != nil {
		if o, done := applyFault(r, f, st); done {
			write(w, o)
			return
		}
	}
	var body []byte
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		body, _ = io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	}
	o, changes := s.handle(st, rt, r, body, now)
	st.done()
	write(w, o)
	if s.opts.OnStockWrite != nil {
		for _, c := range changes {
			s.opts.OnStockWrite(st.id, c.productID, c.variantID, c.stock, now)
		}
	}
}

func write(w http.ResponseWriter, o out) {
	for k, v := range o.header {
		w.Header()[k] = []string{v}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(o.status)
	_, _ = w.Write(o.body)
}

func unauthorized() out {
	return out{status: http.StatusUnauthorized, body: []byte(`"Sem permissao para acessar recurso"`)}
}

func throttled(wait time.Duration) out {
	secs := int(math.Ceil(wait.Seconds()))
	secs = max(secs, 1)
	return out{status: http.StatusTooManyRequests,
		body: []byte(`{"limite_de_requisicoes":1,"tempo_ate_permitir_novamente":` + strconv.Itoa(secs) + `}`)}
}

// mercosTime renders a time as Mercos does: Brazil local, second precision.
func (s *Server) mercosTime(t time.Time) string { return t.In(s.sp).Format(time.DateTime) }

// parseAfter reads alterado_apos ("2006-01-02T15:04:05" or with a space) in Brazil time.
func (s *Server) parseAfter(v string) (time.Time, bool) {
	v = strings.Replace(strings.TrimSpace(v), "T", " ", 1)
	t, err := time.ParseInLocation(time.DateTime, v, s.sp)
	return t, err == nil
}

// Money helper for tests and the kit.
func dec(d decimal.Decimal) string { return d.StringFixed(2) }
