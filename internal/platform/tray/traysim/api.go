package traysim

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Endpoint names used by the counters.
const (
	epAuthGrant     = "POST /auth"
	epAuthRefresh   = "GET /auth"
	EpProductGet    = "GET /products/{id}"
	EpProductPut    = "PUT /products/{id}"
	EpVariantGet    = "GET /products/variants/{id}"
	EpVariantPut    = "PUT /products/variants/{id}"
	EpProductList   = "GET /products"
	EpVariantList   = "GET /products/variants"
	EpOrderList     = "GET /orders"
	EpOrderGet      = "GET /orders/{id}"
	EpOrderComplete = "GET /orders/{id}/complete"
	EpOrderPut      = "PUT /orders/{id}"
	EpOrderCancel   = "PUT /orders/cancel/{id}"
	EpStatuses      = "GET /orders/statuses"
	EpInvoiceList   = "GET /orders/{id}/invoices"
	EpInvoicePost   = "POST /orders/{id}/invoices"
	// EpAuthGrant and EpAuthRefresh name the token endpoints.
	EpAuthGrant   = epAuthGrant
	EpAuthRefresh = epAuthRefresh
)

type routed struct {
	endpoint string
	id       string
}

// route maps method and path (after /web_api) to an endpoint without allocating much.
func route(method, path string) routed {
	p := strings.Trim(path, "/")
	seg := strings.Split(p, "/")
	n := len(seg)
	switch {
	case p == "auth" && method == http.MethodPost:
		return routed{endpoint: epAuthGrant}
	case p == "auth" && method == http.MethodGet:
		return routed{endpoint: epAuthRefresh}
	case p == "products" && method == http.MethodGet:
		return routed{endpoint: EpProductList}
	case p == "orders" && method == http.MethodGet:
		return routed{endpoint: EpOrderList}
	case p == "products/variants" && method == http.MethodGet:
		return routed{endpoint: EpVariantList}
	case n == 2 && seg[0] == "products" && seg[1] != "variants":
		return pick(method, EpProductGet, EpProductPut, seg[1])
	case n == 3 && seg[0] == "products" && seg[1] == "variants":
		return pick(method, EpVariantGet, EpVariantPut, seg[2])
	case n == 2 && seg[0] == "orders" && seg[1] == "statuses" && method == http.MethodGet:
		return routed{endpoint: EpStatuses}
	case n == 2 && seg[0] == "orders":
		return pick(method, EpOrderGet, EpOrderPut, seg[1])
	case n == 3 && seg[0] == "orders" && seg[2] == "complete" && method == http.MethodGet:
		return routed{endpoint: EpOrderComplete, id: seg[1]}
	case n == 3 && seg[0] == "orders" && seg[2] == "invoices" && method == http.MethodGet:
		return routed{endpoint: EpInvoiceList, id: seg[1]}
	case n == 3 && seg[0] == "orders" && seg[2] == "invoices" && method == http.MethodPost:
		return routed{endpoint: EpInvoicePost, id: seg[1]}
	case n == 3 && seg[0] == "orders" && seg[1] == "cancel" && method == http.MethodPut:
		return routed{endpoint: EpOrderCancel, id: seg[2]}
	}
	return routed{}
}

func pick(method, get, put, id string) routed {
	switch method {
	case http.MethodGet:
		return routed{endpoint: get, id: id}
	case http.MethodPut:
		return routed{endpoint: put, id: id}
	}
	return routed{}
}

// change is one observed value change, reported after the data lock is released.
type change struct {
	productID, variantID string
	stock                *int64
	price                *decimal.Decimal
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, st *store, rt routed, now time.Time) {
	var body map[string]json.RawMessage
	if (r.Method == http.MethodPut && rt.endpoint != EpOrderCancel) || rt.endpoint == EpInvoicePost {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		raw, err := io.ReadAll(r.Body)
		if err != nil || json.Unmarshal(raw, &body) != nil {
			writeError(w, http.StatusBadRequest, "Bad Request", "body is not a JSON object", 0)
			return
		}
		defer st.recordPut(rt.endpoint, rt.id, raw, now, s.opts.KeepPuts)
	}
	switch rt.endpoint {
	case EpProductGet, EpVariantGet:
		s.getItem(w, st, rt)
	case EpProductList, EpVariantList:
		s.listItems(w, r, st, rt.endpoint == EpVariantList)
	case EpProductPut, EpVariantPut:
		s.putItem(w, st, rt, body, now)
	case EpOrderGet, EpOrderComplete:
		st.data.Lock()
		o, ok := st.orders[rt.id]
		var out []byte
		if ok {
			out, _ = json.Marshal(o)
		}
		st.data.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "Not Found", "Order not found", 0)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	case EpOrderPut, EpOrderCancel:
		s.putOrder(w, st, rt, body)
	case EpStatuses:
		s.listStatuses(w, r, st)
	case EpOrderList:
		s.listOrders(w, r, st)
	case EpInvoiceList:
		s.listInvoices(w, st, rt.id)
	case EpInvoicePost:
		s.postInvoice(w, st, rt.id, body)
	}
}

func (s *Server) getItem(w http.ResponseWriter, st *store, rt routed) {
	st.data.Lock()
	defer st.data.Unlock()
	if rt.endpoint == EpVariantGet {
		v, ok := st.variants[rt.id]
		if !ok {
			writeError(w, http.StatusNotFound, "Not Found", "Variant not found", 0)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"Variant": variantJSON(v)})
		return
	}
	p, ok := st.products[rt.id]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "Product not found", 0)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"Product": st.productJSON(p)})
}

// listItems serves Tray's paged lists: limit (default 30, at most 50) and page (from 1),
// with the paging envelope, in id order so pages are stable.
func (s *Server) listItems(w http.ResponseWriter, r *http.Request, st *store, variants bool) {
	limit, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v > 0 {
		limit = min(v, 50)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	st.data.Lock()
	defer st.data.Unlock()
	var ids []string
	if variants {
		for id := range st.variants {
			ids = append(ids, id)
		}
	} else {
		for id := range st.products {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, _ := strconv.Atoi(ids[i])
		b, _ := strconv.Atoi(ids[j])
		return a < b || (a == b && ids[i] < ids[j])
	})
	from := min((page-1)*limit, len(ids))
	to := min(from+limit, len(ids))
	items := []map[string]any{}
	for _, id := range ids[from:to] {
		if variants {
			items = append(items, map[string]any{"Variant": variantJSON(st.variants[id])})
		} else {
			items = append(items, map[string]any{"Product": st.productJSON(st.products[id])})
		}
	}
	key := "Products"
	if variants {
		key = "Variants"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"paging": map[string]any{"total": len(ids), "page": page, "offset": from, "limit": limit, "maxLimit": 50},
		key:      items,
	})
}

func variantJSON(v *Variant) map[string]any {
	return map[string]any{
		"id": v.ID, "product_id": v.ProductID, "ean": v.EAN, "stock": strconv.FormatInt(v.Stock, 10),
		"price": v.Price.StringFixed(2), "promotional_price": v.PromotionalPrice.StringFixed(2),
		"cost_price": v.CostPrice.StringFixed(2), "available": "1",
	}
}

// productJSON renders a product with the ids of its variants; the caller holds st.data.
func (st *store) productJSON(p *Product) map[string]any {
	variants := []map[string]string{}
	for _, v := range st.variants {
		if v.ProductID == p.ID {
			variants = append(variants, map[string]string{"id": v.ID})
		}
	}
	return map[string]any{
		"id": p.ID, "name": p.Name, "description": p.Description, "ean": p.EAN, "brand": p.Brand,
		"weight": strconv.FormatInt(p.WeightGrams, 10), "available": boolDigit(p.Available),
		"stock": strconv.FormatInt(p.Stock, 10), "price": p.Price.StringFixed(2),
		"promotional_price": p.PromotionalPrice.StringFixed(2), "cost_price": p.CostPrice.StringFixed(2),
		"Variant": variants,
	}
}

func (s *Server) putItem(w http.ResponseWriter, st *store, rt routed, body map[string]json.RawMessage, now time.Time) {
	wrapper := "Product"
	if rt.endpoint == EpVariantPut {
		wrapper = "Variant"
	}
	var f map[string]json.RawMessage
	if json.Unmarshal(body[wrapper], &f) != nil || f == nil {
		writeError(w, http.StatusBadRequest, "Bad Request", "missing "+wrapper+" object", 0)
		return
	}
	if cause := st.refusesPrice(f); cause != "" {
		writeError(w, http.StatusBadRequest, "Bad Request", cause, 0)
		return
	}
	var ch change
	var bad string
	st.data.Lock()
	if wrapper == "Variant" {
		v, ok := st.variants[rt.id]
		if !ok {
			st.data.Unlock()
			writeError(w, http.StatusNotFound, "Not Found", "Variant not found", 0)
			return
		}
		ch.productID, ch.variantID = v.ProductID, v.ID
		bad = applyPrices(f, &v.Stock, &v.Price, &v.PromotionalPrice, &v.CostPrice, &ch)
		if bad == "" {
			v.EAN = str(f, "ean", v.EAN)
		}
	} else {
		p, ok := st.products[rt.id]
		if !ok {
			st.data.Unlock()
			writeError(w, http.StatusNotFound, "Not Found", "Product not found", 0)
			return
		}
		ch.productID = p.ID
		bad = applyPrices(f, &p.Stock, &p.Price, &p.PromotionalPrice, &p.CostPrice, &ch)
		if bad == "" {
			bad = applyProduct(f, p)
		}
	}
	st.data.Unlock()
	if bad != "" {
		writeError(w, http.StatusBadRequest, "Bad Request", bad, 0)
		return
	}
	if ch.stock != nil && s.opts.OnStockWrite != nil {
		s.opts.OnStockWrite(st.id, ch.productID, ch.variantID, *ch.stock, now)
	}
	if ch.price != nil && s.opts.OnPriceWrite != nil {
		s.opts.OnPriceWrite(st.id, ch.productID, ch.variantID, *ch.price, now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Saved", "id": rt.id, "code": 200})
}

// applyPrices validates then applies stock and prices; returns a message when invalid.
func applyPrices(f map[string]json.RawMessage, stock *int64, price, promo, cost *decimal.Decimal, ch *change) string {
	newStock, newPrice, newPromo, newCost := *stock, *price, *promo, *cost
	if raw, ok := f["stock"]; ok {
		d, err := num(raw)
		if err != nil || !d.IsInteger() {
			return "stock must be an integer"
		}
		newStock = d.IntPart()
	}
	for _, p := range []struct {
		name string
		dst  *decimal.Decimal
	}{{"price", &newPrice}, {"promotional_price", &newPromo}, {"cost_price", &newCost}} {
		if raw, ok := f[p.name]; ok {
			d, err := num(raw)
			if err != nil || d.IsNegative() {
				return p.name + " must be a non-negative decimal"
			}
			*p.dst = d
		}
	}
	before, after := selling(*price, *promo), selling(newPrice, newPromo)
	if newStock != *stock {
		ch.stock = &newStock
	}
	if !before.Equal(after) {
		ch.price = &after
	}
	*stock, *price, *promo, *cost = newStock, newPrice, newPromo, newCost
	return ""
}

// selling is what the buyer pays: the promotional price when set below the price.
func selling(price, promo decimal.Decimal) decimal.Decimal {
	if promo.IsPositive() && promo.LessThan(price) {
		return promo
	}
	return price
}

func applyProduct(f map[string]json.RawMessage, p *Product) string {
	p.Name = str(f, "name", p.Name)
	p.Description = str(f, "description", p.Description)
	p.EAN = str(f, "ean", p.EAN)
	p.Brand = str(f, "brand", p.Brand)
	if raw, ok := f["weight"]; ok {
		d, err := num(raw)
		if err != nil {
			return "weight must be a number"
		}
		p.WeightGrams = d.IntPart()
	}
	if raw, ok := f["available"]; ok {
		d, err := num(raw)
		if err != nil {
			return "available must be 0 or 1"
		}
		p.Available = d.IsPositive()
	}
	return ""
}

// num reads a JSON number or numeric string.
func num(raw json.RawMessage) (decimal.Decimal, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	return decimal.NewFromString(s)
}

func str(f map[string]json.RawMessage, name, def string) string {
	var v string
	if raw, ok := f[name]; ok && json.Unmarshal(raw, &v) == nil {
		return v
	}
	return def
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (st *store) recordPut(endpoint, id string, body []byte, at time.Time, keep int) {
	st.data.Lock()
	defer st.data.Unlock()
	if len(st.puts) >= keep {
		n := copy(st.puts, st.puts[len(st.puts)-keep+1:])
		st.puts = st.puts[:n]
	}
	st.puts = append(st.puts, PutRecord{Endpoint: endpoint, ID: id, Body: body, At: at})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers in Tray's error shape; errorCode 0 leaves error_code out.
func writeError(w http.ResponseWriter, status int, msg, cause string, errorCode int) {
	body := map[string]any{"message": msg, "causes": []string{cause}, "code": status}
	if errorCode != 0 {
		body["error_code"] = errorCode
	}
	writeJSON(w, status, body)
}

// writeLimit answers 429; Retry-After is sent when a wait is known.
func writeLimit(w http.ResponseWriter, msg string, wait time.Duration) {
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	}
	writeError(w, http.StatusTooManyRequests, "Too Many Requests", msg, 0)
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
