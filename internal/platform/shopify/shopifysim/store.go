package shopifysim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Product is what the simulator holds for a product.
type Product struct {
	ID, Title, DescriptionHTML, Vendor, ProductType, Status string
	Variants                                                []string // variant GIDs
}

// Variant is what the simulator holds for a variant.
type Variant struct {
	ID, ProductID, SKU, Barcode, Title string
	Price, Cost                        decimal.Decimal
	CompareAtPrice                     *decimal.Decimal
	InventoryItemID                    string
	WeightGrams                        float64
}

// CallStats are a shop's request counters.
type CallStats struct {
	Total int64
	// Throttled counts THROTTLED answers from the cost bucket (injected faults are under Faults).
	Throttled int64
	// Writes counts executed requests that write stock, prices or products (a batch counts once).
	Writes      int64
	Faults      int64
	ByOperation map[string]int64
}

type store struct {
	id  string
	cfg StoreConfig

	// mu guards the per-request control state: counters, bucket, faults, token.
	mu        sync.Mutex
	tokens    map[string]time.Time // access token -> expiry (zero: never)
	refresh   map[string]bool
	avail     float64
	at        time.Time
	faults    []Fault
	total     int64
	throttled int64
	writes    int64
	faulted   int64
	byOp      map[string]int64

	// data guards the catalogue, inventory and orders.
	data     sync.Mutex
	nextID   int64
	products map[string]*Product
	variants map[string]*Variant
	items    map[string]string           // inventory item GID -> variant GID
	levels   map[string]map[string]int64 // item GID -> location GID -> available
	orders   map[string]map[string]any   // order GID -> GraphQL order object
	fos      map[string][]*fulfillmentOrder
	idem     map[string]any // @idempotent key -> answer
	notes    map[string]map[string]string
}

type fulfillmentOrder struct {
	ID, Status string
	Tracking   map[string]any
}

func newStore(id string, cfg StoreConfig, now time.Time) *store {
	return &store{
		id: id, cfg: cfg, tokens: map[string]time.Time{}, refresh: map[string]bool{}, avail: cfg.BucketSize, at: now, byOp: map[string]int64{},
		nextID: 1000, products: map[string]*Product{}, variants: map[string]*Variant{}, items: map[string]string{},
		levels: map[string]map[string]int64{}, orders: map[string]map[string]any{}, fos: map[string][]*fulfillmentOrder{},
		idem: map[string]any{}, notes: map[string]map[string]string{},
	}
}

// admit counts a request and takes the next injected fault.
func (st *store) admit() *Fault {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.total++
	if len(st.faults) == 0 {
		return nil
	}
	f := st.faults[0]
	if st.faults[0].Count--; st.faults[0].Count <= 0 {
		st.faults = st.faults[1:]
	}
	st.faulted++
	return &f
}

func (st *store) tokenOK(tok string, now time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	exp, ok := st.tokens[tok]
	return tok != "" && ok && (exp.IsZero() || now.Before(exp))
}

// issue records a new access token. Caller holds mu.
func (st *store) issue(tok string, now time.Time) {
	if st.cfg.AccessTTL > 0 {
		st.tokens[tok] = now.Add(st.cfg.AccessTTL)
	} else {
		st.tokens[tok] = time.Time{}
	}
}

// serveRefresh is POST /admin/oauth/access_token with grant_type refresh_token: a
// refresh token is used once and replaced.
func (st *store) serveRefresh(w http.ResponseWriter, r *http.Request, now time.Time) {
	var in struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		RefreshToken string `json:"refresh_token"`
		GrantType    string `json:"grant_type"`
	}
	if json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in) != nil || in.GrantType != "refresh_token" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "grant_type refresh_token expected"})
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cfg.ClientID == "" || in.ClientID != st.cfg.ClientID || in.ClientSecret != st.cfg.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "client authentication failed"})
		return
	}
	if !st.refresh[in.RefreshToken] {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "refresh token is invalid or expired"})
		return
	}
	delete(st.refresh, in.RefreshToken)
	access, refresh := "shpat_"+randomHex(), "shprt_"+randomHex()
	st.issue(access, now)
	st.refresh[refresh] = true
	out := map[string]any{"access_token": access, "scope": "read_products,write_products,read_inventory,write_inventory,read_orders,write_orders",
		"refresh_token": refresh, "refresh_token_expires_in": 7776000}
	if st.cfg.AccessTTL > 0 {
		out["expires_in"] = int(st.cfg.AccessTTL / time.Second)
	}
	writeJSON(w, http.StatusOK, out)
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ExpireToken makes one access token expired.
func (s *Server) ExpireToken(shop, token string) {
	if st := s.store(shop); st != nil {
		st.mu.Lock()
		if _, ok := st.tokens[token]; ok {
			st.tokens[token] = time.Unix(1, 0)
		}
		st.mu.Unlock()
	}
}

// ExpireTokens makes every access token of a shop expired (the next call gets 401).
func (s *Server) ExpireTokens(shop string) {
	if st := s.store(shop); st != nil {
		st.mu.Lock()
		for k := range st.tokens {
			st.tokens[k] = time.Unix(1, 0)
		}
		st.mu.Unlock()
	}
}

func (st *store) refill(now time.Time) {
	if d := now.Sub(st.at); d > 0 {
		st.avail = min(st.cfg.BucketSize, st.avail+d.Seconds()*st.cfg.RestoreRate)
		st.at = now
	}
}

// take removes cost points when the bucket holds them.
func (st *store) take(now time.Time, cost float64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.refill(now)
	if st.avail < cost {
		st.throttled++
		return false
	}
	st.avail -= cost
	return true
}

// settle refunds points and returns the throttle status.
func (st *store) settle(now time.Time, refund float64) map[string]any {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.refill(now)
	if refund > 0 {
		st.avail = min(st.cfg.BucketSize, st.avail+refund)
	}
	return map[string]any{"maximumAvailable": st.cfg.BucketSize, "currentlyAvailable": st.avail, "restoreRate": st.cfg.RestoreRate}
}

func (st *store) count(op string, write bool) {
	st.mu.Lock()
	st.byOp[op]++
	if write {
		st.writes++
	}
	st.mu.Unlock()
}

func (st *store) newID() string {
	st.nextID++
	return strconv.FormatInt(st.nextID, 10)
}

// AddProduct creates a product with one variant stocked at Location and returns the
// product and variant GIDs.
func (s *Server) AddProduct(shop, sku string, stock int64, price decimal.Decimal) (productGID, variantGID string, err error) {
	st := s.store(shop)
	if st == nil {
		return "", "", fmt.Errorf("shopifysim: no shop %q", shop)
	}
	st.data.Lock()
	pid := "gid://shopify/Product/" + st.newID()
	st.products[pid] = &Product{ID: pid, Title: "Product " + sku, Status: "ACTIVE"}
	st.data.Unlock()
	vid, err := s.AddVariant(shop, pid, sku, stock, price)
	return pid, vid, err
}

// AddVariant adds a variant to a product, stocked at Location.
func (s *Server) AddVariant(shop, productGID, sku string, stock int64, price decimal.Decimal) (string, error) {
	st := s.store(shop)
	if st == nil {
		return "", fmt.Errorf("shopifysim: no shop %q", shop)
	}
	st.data.Lock()
	defer st.data.Unlock()
	p := st.products[productGID]
	if p == nil {
		return "", fmt.Errorf("shopifysim: no product %q", productGID)
	}
	n := st.newID()
	vid, iid := "gid://shopify/ProductVariant/"+n, "gid://shopify/InventoryItem/"+n
	title := "Default Title"
	if len(p.Variants) > 0 {
		title = sku
	}
	st.variants[vid] = &Variant{ID: vid, ProductID: productGID, SKU: sku, Title: title, Price: price, InventoryItemID: iid}
	st.items[iid] = vid
	st.levels[iid] = map[string]int64{Location: stock}
	p.Variants = append(p.Variants, vid)
	return vid, nil
}

// Unstock removes a variant's inventory level at Location (ITEM_NOT_STOCKED_AT_LOCATION).
func (s *Server) Unstock(shop, variantGID string) {
	if st := s.store(shop); st != nil {
		st.data.Lock()
		if v := st.variants[variantGID]; v != nil {
			delete(st.levels[v.InventoryItemID], Location)
		}
		st.data.Unlock()
	}
}

// SetAvailable changes a variant's stock behind the connector's back (a sale on Shopify).
func (s *Server) SetAvailable(shop, variantGID string, qty int64) {
	if st := s.store(shop); st != nil {
		st.data.Lock()
		if v := st.variants[variantGID]; v != nil {
			st.levels[v.InventoryItemID][Location] = qty
		}
		st.data.Unlock()
	}
}

// Stock is a variant's available quantity at Location.
func (s *Server) Stock(shop, variantGID string) (int64, bool) {
	st := s.store(shop)
	if st == nil {
		return 0, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	v := st.variants[variantGID]
	if v == nil {
		return 0, false
	}
	q, ok := st.levels[v.InventoryItemID][Location]
	return q, ok
}

// Variant returns a copy of a variant.
func (s *Server) Variant(shop, variantGID string) (Variant, bool) {
	st := s.store(shop)
	if st == nil {
		return Variant{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	v := st.variants[variantGID]
	if v == nil {
		return Variant{}, false
	}
	return *v, true
}

// Product returns a copy of a product.
func (s *Server) Product(shop, productGID string) (Product, bool) {
	st := s.store(shop)
	if st == nil {
		return Product{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	p := st.products[productGID]
	if p == nil {
		return Product{}, false
	}
	c := *p
	c.Variants = append([]string(nil), p.Variants...)
	return c, true
}

// AddOrder stores an order in GraphQL shape (what order(id:) returns) with one open
// fulfilment order.
func (s *Server) AddOrder(shop string, order []byte) error {
	st := s.store(shop)
	if st == nil {
		return fmt.Errorf("shopifysim: no shop %q", shop)
	}
	var o map[string]any
	if err := json.Unmarshal(order, &o); err != nil {
		return err
	}
	id, _ := o["id"].(string)
	if id == "" {
		return fmt.Errorf("shopifysim: order without id")
	}
	st.data.Lock()
	st.orders[id] = o
	st.fos[id] = []*fulfillmentOrder{{ID: "gid://shopify/FulfillmentOrder/" + st.newID(), Status: "OPEN"}}
	st.data.Unlock()
	return nil
}

// OrderState is what write-backs changed on an order.
type OrderState struct {
	FinancialStatus, FulfillmentStatus string
	Cancelled, Closed                  bool
	Tracking                           []map[string]any
	Metafields                         map[string]string
}

// Order returns an order's write-back state.
func (s *Server) Order(shop, orderGID string) (OrderState, bool) {
	st := s.store(shop)
	if st == nil {
		return OrderState{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	o := st.orders[orderGID]
	if o == nil {
		return OrderState{}, false
	}
	out := OrderState{Metafields: map[string]string{}}
	out.FinancialStatus, _ = o["displayFinancialStatus"].(string)
	out.FulfillmentStatus, _ = o["displayFulfillmentStatus"].(string)
	out.Cancelled = o["cancelledAt"] != nil
	out.Closed, _ = o["closed"].(bool)
	for _, fo := range st.fos[orderGID] {
		if fo.Tracking != nil {
			out.Tracking = append(out.Tracking, fo.Tracking)
		}
	}
	for k, v := range st.notes[orderGID] {
		out.Metafields[k] = v
	}
	return out, true
}

// RevokeToken makes the shop reject its token (an uninstalled app or revoked token).
func (s *Server) RevokeToken(shop string) {
	if st := s.store(shop); st != nil {
		st.mu.Lock()
		clear(st.tokens)
		clear(st.refresh)
		st.mu.Unlock()
	}
}

// DrainBucket empties a shop's cost bucket (another app used it up).
func (s *Server) DrainBucket(shop string) {
	if st := s.store(shop); st != nil {
		st.mu.Lock()
		st.refill(s.opts.Now())
		st.avail = 0
		st.mu.Unlock()
	}
}

// Calls returns a shop's request counters.
func (s *Server) Calls(shop string) CallStats {
	st := s.store(shop)
	if st == nil {
		return CallStats{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := CallStats{Total: st.total, Throttled: st.throttled, Writes: st.writes, Faults: st.faulted, ByOperation: map[string]int64{}}
	for k, v := range st.byOp {
		out.ByOperation[k] = v
	}
	return out
}

// sortedVariants lists variant GIDs by numeric id. Caller holds data.
func (st *store) sortedVariants() []string {
	ids := make([]string, 0, len(st.variants))
	for id := range st.variants {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return gidNum(ids[i]) < gidNum(ids[j]) })
	return ids
}

func gidNum(gid string) int64 {
	for i := len(gid) - 1; i >= 0; i-- {
		if gid[i] == '/' {
			n, _ := strconv.ParseInt(gid[i+1:], 10, 64)
			return n
		}
	}
	return 0
}

// FaultKind is a failure the simulator can inject.
type FaultKind int

const (
	// FaultServerError answers 500.
	FaultServerError FaultKind = iota + 1
	// FaultRateLimit answers HTTP 429 with Retry-After (Fault.RetryAfter).
	FaultRateLimit
	// FaultHang waits Fault.Delay (or until the client gives up), then answers normally.
	FaultHang
	// FaultMalformed answers 200 with a body that is not JSON.
	FaultMalformed
	// FaultTruncated answers 200 and cuts the body short.
	FaultTruncated
	// FaultThrottled answers THROTTLED with an empty bucket.
	FaultThrottled
)

// Fault applies to the next Count requests of a shop.
type Fault struct {
	Kind       FaultKind
	Count      int
	RetryAfter time.Duration
	Delay      time.Duration
}

// InjectFault queues a fault for a shop; faults run in the order injected.
func (s *Server) InjectFault(shop string, f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	if st := s.store(shop); st != nil {
		st.mu.Lock()
		st.faults = append(st.faults, f)
		st.mu.Unlock()
	}
}

func applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	switch f.Kind {
	case FaultServerError:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": "Internal Server Error"})
	case FaultRateLimit:
		w.Header().Set("Retry-After", strconv.FormatFloat(f.RetryAfter.Seconds(), 'f', 1, 64))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})
	case FaultHang:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
		}
	case FaultMalformed:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "512")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"data":{"inventorySetQuant`))
	case FaultThrottled:
		writeJSON(w, http.StatusOK, map[string]any{
			"errors": []map[string]any{{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED"}}},
			"extensions": map[string]any{"cost": map[string]any{"requestedQueryCost": 10, "actualQueryCost": nil,
				"throttleStatus": map[string]any{"maximumAvailable": 2000.0, "currentlyAvailable": 0.0, "restoreRate": 100.0}}},
		})
	default:
		return false
	}
	return true
}
