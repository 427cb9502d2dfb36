package traysim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Product is what the simulator holds for a product.
type Product struct {
	ID               string
	Name             string
	Description      string
	EAN              string
	Brand            string
	WeightGrams      int64
	Available        bool
	Stock            int64
	Price            decimal.Decimal
	PromotionalPrice decimal.Decimal
	CostPrice        decimal.Decimal
}

// Variant is what the simulator holds for a variant.
type Variant struct {
	ID, ProductID    string
	EAN              string
	Stock            int64
	Price            decimal.Decimal
	PromotionalPrice decimal.Decimal
	CostPrice        decimal.Decimal
}

// PutRecord is one applied write.
type PutRecord struct {
	Endpoint string
	ID       string
	Body     []byte
	At       time.Time
}

// CallStats are a store's request counters.
type CallStats struct {
	Total       int64
	RateLimited int64 // 429s from the limits (injected 429s are counted under Faults)
	Faults      int64
	ByEndpoint  map[string]int64
}

type store struct {
	id  string
	cfg StoreConfig

	// mu guards the per-request control state: counters, limits, faults, tokens.
	mu        sync.Mutex
	status    StoreStatus
	access    map[string]time.Time
	refresh   map[string]time.Time
	ring      []time.Time // arrival times of the last RateLimitPerMin admitted requests
	pos       int
	day       string
	dayCount  int
	faults    []Fault
	calls     map[string]int64
	total     int64
	throttled int64
	faulted   int64

	// priceRefusal, when set, is the cause a PUT carrying a price is refused with
	// (RefusePrices); guarded by mu.
	priceRefusal string

	// data guards the catalogue and orders.
	data     sync.Mutex
	products map[string]*Product
	variants map[string]*Variant
	orders   map[string]map[string]any
	statuses []orderStatus
	puts     []PutRecord
	invoices map[string][]Invoice // by order id
	// nextInvoice numbers invoices per store.
	nextInvoice int
}

type orderStatus struct{ ID, Name string }

func newStore(id string, cfg StoreConfig) *store {
	return &store{
		id: id, cfg: cfg,
		access: map[string]time.Time{}, refresh: map[string]time.Time{},
		ring: make([]time.Time, cfg.RateLimitPerMin), calls: map[string]int64{},
		products: map[string]*Product{}, variants: map[string]*Variant{}, orders: map[string]map[string]any{},
		invoices: map[string][]Invoice{},
		statuses: []orderStatus{{"1", "A ENVIAR"}, {"2", "AGUARDANDO PAGAMENTO"}, {"3", "ENVIADO"},
			{"4", "FINALIZADO"}, {"5", "CANCELADO"}},
	}
}

type verdict struct {
	dailyExceeded, minuteExceeded bool
	retryAfter                    time.Duration
	fault                         *Fault
}

// admit counts a request, applies the rolling-minute and daily limits, and takes the
// next injected fault. One short critical section per request.
func (st *store) admit(endpoint string, now time.Time, window time.Duration) verdict {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.total++
	st.calls[endpoint]++
	day := now.UTC().Format(time.DateOnly)
	if st.day != day {
		st.day, st.dayCount = day, 0
	}
	if st.dayCount >= st.cfg.DailyLimit {
		st.throttled++
		return verdict{dailyExceeded: true}
	}
	// ring[pos] is the oldest of the last N admitted requests: if it is inside the
	// last minute, admitting this one would make N+1.
	if oldest := st.ring[st.pos]; !oldest.IsZero() && oldest.After(now.Add(-window)) {
		st.throttled++
		wait := oldest.Add(window).Sub(now)
		return verdict{minuteExceeded: true, retryAfter: wait}
	}
	st.ring[st.pos] = now
	st.pos = (st.pos + 1) % len(st.ring)
	st.dayCount++
	if len(st.faults) > 0 && !(st.faults[0].Kind == FaultUnauthorized && (endpoint == epAuthGrant || endpoint == epAuthRefresh)) {
		f := st.faults[0]
		if st.faults[0].Count--; st.faults[0].Count <= 0 {
			st.faults = st.faults[1:]
		}
		st.faulted++
		return verdict{fault: &f}
	}
	return verdict{}
}

// checkToken returns Tray's error_code for a bad token, or 0.
func (st *store) checkToken(tok string, now time.Time) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	if code := st.statusCode(); code != 0 {
		return code
	}
	exp, ok := st.access[tok]
	switch {
	case tok == "" || !ok:
		return 1099
	case !now.Before(exp):
		return 1000
	}
	return 0
}

func (st *store) statusCode() int {
	switch st.status {
	case StoreBlocked:
		return 1001
	case StoreInactive:
		return 1002
	case StoreCancelled:
		return 1003
	}
	return 0
}

func (s *Server) serveAuth(w http.ResponseWriter, r *http.Request, st *store, endpoint string, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if code := st.statusCode(); code != 0 {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Store unavailable", code)
		return
	}
	msg, status := "Created tokens", http.StatusCreated
	if endpoint == epAuthRefresh {
		rt := r.URL.Query().Get("refresh_token")
		exp, ok := st.refresh[rt]
		if rt == "" || !ok || !now.Before(exp) {
			writeError(w, http.StatusUnauthorized, "Unauthorized", "Invalid refresh_token", 1099)
			return
		}
		delete(st.refresh, rt) // a refresh token is used once
		msg, status = "Refreshed tokens", http.StatusOK
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		key, secret, code := formOrJSON(r, "consumer_key", "consumer_secret", "code")
		if key != st.cfg.ConsumerKey || secret != st.cfg.ConsumerSecret || code != st.cfg.Code || code == "" {
			writeError(w, http.StatusUnauthorized, "Unauthorized", "Invalid consumer_key, consumer_secret or code", 1099)
			return
		}
	}
	access, refresh := randomToken(), randomToken()
	accessExp, refreshExp := now.Add(st.cfg.AccessTTL), now.Add(st.cfg.RefreshTTL)
	st.access[access], st.refresh[refresh] = accessExp, refreshExp
	writeJSON(w, status, map[string]any{
		"message": msg, "code": status, "access_token": access, "refresh_token": refresh,
		"date_expiration_access_token":  s.trayDateTime(accessExp),
		"date_expiration_refresh_token": s.trayDateTime(refreshExp),
		"date_activated":                s.trayDateTime(now),
		"api_host":                      "http://" + r.Host + "/" + st.id + "/web_api/",
		"store_id":                      st.id,
	})
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// trayDateTime renders a time the way Tray does: São Paulo local, second precision.
func (s *Server) trayDateTime(t time.Time) string { return t.In(s.sp).Format(time.DateTime) }

// SetStoreStatus blocks, deactivates or cancels a store (401 with 1001/1002/1003).
func (s *Server) SetStoreStatus(storeID string, status StoreStatus) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		st.status = status
		st.mu.Unlock()
	}
}

// ExpireAccessTokens makes every issued access token expired (next call gets 1000).
func (s *Server) ExpireAccessTokens(storeID string) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		for k := range st.access {
			st.access[k] = time.Time{}
		}
		st.mu.Unlock()
	}
}

// InvalidateAccessTokens revokes every issued access token: Tray no longer knows
// them, so the next call gets 401 with error_code 1099 ("Token expired or invalid")
// even though the client still thinks the token is good.
func (s *Server) InvalidateAccessTokens(storeID string) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		clear(st.access)
		st.mu.Unlock()
	}
}

// InvalidateRefreshTokens revokes every issued refresh token (GET /auth answers 401
// with 1099), so a client must fall back to a new grant from its code.
func (s *Server) InvalidateRefreshTokens(storeID string) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		clear(st.refresh)
		st.mu.Unlock()
	}
}

// Calls returns a store's request counters.
func (s *Server) Calls(storeID string) CallStats {
	st := s.store(storeID)
	if st == nil {
		return CallStats{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := CallStats{Total: st.total, RateLimited: st.throttled, Faults: st.faulted, ByEndpoint: map[string]int64{}}
	for k, v := range st.calls {
		out.ByEndpoint[k] = v
	}
	return out
}

// formOrJSON reads fields from a form or JSON body.
func formOrJSON(r *http.Request, names ...string) (a, b, c string) {
	vals := make([]string, len(names))
	if strings.Contains(r.Header.Get("Content-Type"), "json") {
		var m map[string]any
		if decodeJSON(r.Body, &m) == nil {
			for i, n := range names {
				vals[i], _ = m[n].(string)
			}
		}
	} else if r.ParseForm() == nil {
		for i, n := range names {
			vals[i] = r.PostForm.Get(n)
		}
	}
	return vals[0], vals[1], vals[2]
}
