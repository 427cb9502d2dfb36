// Package shopifysim simulates Shopify's GraphQL Admin API for several shops on one
// listener: POST /{shop}/admin/api/{version}/graphql.json with X-Shopify-Access-Token.
// It interprets the operations the connector sends (by operation name, reading the
// variables; no GraphQL parser), enforces the calculated-cost leaky bucket (THROTTLED
// answers with extensions.cost), holds products, variants, inventory levels and
// orders, applies writes, counts calls, injects faults and reports stock writes.
// It is built for speed: no sleeps or logging per request, short locks.
package shopifysim

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Options configure the simulator; zero values take Shopify's Standard-plan numbers.
type Options struct {
	// BucketSize is each shop's cost bucket (default 2000 points).
	BucketSize float64
	// RestoreRate refills the bucket, in points a second (default 100).
	RestoreRate float64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnStockWrite is called when a write changes an available quantity.
	OnStockWrite func(store, productGID, variantGID string, stock int64, at time.Time)
}

// StoreConfig is one shop's credentials and overrides.
type StoreConfig struct {
	// Token is the access token issued at install.
	Token string
	// AccessTTL makes access tokens expire (Shopify's expiring offline tokens last an
	// hour); zero means they never expire.
	AccessTTL time.Duration
	// ClientID, ClientSecret and RefreshToken enable POST /admin/oauth/access_token
	// with grant_type refresh_token.
	ClientID, ClientSecret, RefreshToken string
	BucketSize, RestoreRate              float64
}

// Location is the GID of every shop's location.
const Location = "gid://shopify/Location/1"

// Server is the simulator.
type Server struct {
	opts   Options
	mu     sync.RWMutex
	stores map[string]*store
	srv    *http.Server
}

// New builds a simulator with no shops.
func New(opts Options) *Server {
	if opts.BucketSize <= 0 {
		opts.BucketSize = 2000
	}
	if opts.RestoreRate <= 0 {
		opts.RestoreRate = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, stores: map[string]*store{}}
}

// AddStore registers a shop (replacing one with the same id).
func (s *Server) AddStore(id string, cfg StoreConfig) {
	if cfg.BucketSize <= 0 {
		cfg.BucketSize = s.opts.BucketSize
	}
	if cfg.RestoreRate <= 0 {
		cfg.RestoreRate = s.opts.RestoreRate
	}
	now := s.opts.Now()
	st := newStore(id, cfg, now)
	if cfg.Token != "" {
		st.issue(cfg.Token, now)
	}
	if cfg.RefreshToken != "" {
		st.refresh[cfg.RefreshToken] = true
	}
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
// a shop's base_url is BaseURL + "/" + shop.
func (s *Server) Start(addr string) (string, error) {
	if strings.HasPrefix(addr, ":") || addr == "" {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = s.srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener and drops open connections.
func (s *Server) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// BaseURL is a shop's base_url setting under the simulator's base.
func BaseURL(base, shop string) string { return strings.TrimRight(base, "/") + "/" + shop }

// Handler serves the simulated API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

type gqlBody struct {
	Query         string                     `json:"query"`
	OperationName string                     `json:"operationName"`
	Variables     map[string]json.RawMessage `json:"variables"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	shop, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	st := s.store(shop)
	if st != nil && rest == "admin/oauth/access_token" && r.Method == http.MethodPost {
		if f := st.admit(); f != nil && applyFault(w, r, f) {
			return
		}
		st.serveRefresh(w, r, s.opts.Now())
		return
	}
	ver, ok := strings.CutPrefix(rest, "admin/api/")
	if st == nil || !ok || !strings.HasSuffix(ver, "/graphql.json") || strings.Count(ver, "/") != 1 {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"errors": "Method Not Allowed"})
		return
	}
	f := st.admit()
	if f != nil && applyFault(w, r, f) {
		return
	}
	if !st.tokenOK(r.Header.Get("X-Shopify-Access-Token"), s.opts.Now()) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	var body gqlBody
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(data, &body) != nil || body.Query == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]any{"query": "Required parameter missing or invalid"}})
		return
	}
	now := s.opts.Now()
	requested, known := requestedCost(body)
	if !known {
		st.reply(w, now, 0, 0, nil, gqlErr("Unknown operation "+body.OperationName+" (the simulator interprets only the connector's operations)", "BAD_REQUEST"))
		return
	}
	if requested > 1000 {
		st.reply(w, now, 0, 0, nil, gqlErr("Query cost is "+strconv.Itoa(int(requested))+", which exceeds the single query max cost limit (1000).", "MAX_COST_EXCEEDED"))
		return
	}
	if !st.take(now, requested) {
		st.throttle(w, now, requested)
		return
	}
	result, actual, errs, changes := s.execute(st, body, now)
	st.reply(w, now, requested, actual, result, errs)
	if s.opts.OnStockWrite != nil {
		for _, c := range changes {
			s.opts.OnStockWrite(st.id, c.product, c.variant, c.stock, now)
		}
	}
}

func gqlErr(msg, code string) []map[string]any {
	return []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}}
}

// reply writes a GraphQL answer with extensions.cost, refunding unused points.
func (st *store) reply(w http.ResponseWriter, now time.Time, requested, actual float64, data any, errs []map[string]any) {
	ts := st.settle(now, requested-actual)
	out := map[string]any{"extensions": map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": ts}}}
	if data != nil {
		out["data"] = data
	}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	writeJSON(w, http.StatusOK, out)
}

// throttle answers Shopify's THROTTLED error: HTTP 200, actualQueryCost null.
func (st *store) throttle(w http.ResponseWriter, now time.Time, requested float64) {
	ts := st.settle(now, 0)
	writeJSON(w, http.StatusOK, map[string]any{
		"errors": []map[string]any{{"message": "Throttled", "extensions": map[string]any{
			"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
		"extensions": map[string]any{"cost": map[string]any{
			"requestedQueryCost": requested, "actualQueryCost": nil, "throttleStatus": ts}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// requestedCost is the simulator's cost model, per operation (Shopify computes it from
// the query; these are fixed estimates of the same order).
func requestedCost(b gqlBody) (float64, bool) {
	switch b.OperationName {
	case "SetStock", "CancelOrder", "MarkPaid", "CloseOrder", "CreateFulfillment", "SetInvoice":
		return 10, true
	case "UpdateCatalog":
		n := 0
		for k := range b.Variables {
			if len(k) > 1 && (k[0] == 'p' || k[0] == 'u') && isDigits(k[1:]) {
				n++
			}
		}
		return float64(10 * max(n, 1)), true
	case "Variants":
		var ids []string
		_ = json.Unmarshal(b.Variables["ids"], &ids)
		return float64(2 + 3*len(ids)), true
	case "Catalog":
		var first int
		_ = json.Unmarshal(b.Variables["first"], &first)
		return float64(3 + 4*max(first, 0)), true
	case "GetOrder":
		return 620, true
	case "PollOrders":
		var first int
		_ = json.Unmarshal(b.Variables["first"], &first)
		return float64(2 + 84*max(first, 0)), true
	case "FulfillmentOrders":
		return 53, true
	}
	return 0, false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// decimal helpers shared by the operations.
func parseMoney(raw json.RawMessage) (decimal.Decimal, bool, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return decimal.Zero, false, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	if len(s) > 32 || strings.ContainsAny(s, "eE") {
		return decimal.Zero, true, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.IsNegative() {
		return decimal.Zero, true, false
	}
	return d, true, true
}
