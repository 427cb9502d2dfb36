package merchantprosim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Endpoint names used by the counters.
const (
	EpProductList  = "GET /products"
	EpProductGet   = "GET /products/{id}"
	EpProductPatch = "PATCH /products/{id}"
	EpOrderList    = "GET /orders"
	EpOrderGet     = "GET /orders/{id}"
	EpOrderPatch   = "PATCH /orders/{id}"
)

// OrderStatuses are the statuses the simulated store accepts on PATCH /orders/{id}.
var OrderStatuses = []string{"new", "confirmed", "processing", "shipped", "delivered", "completed", "cancelled", "returned"}

type routed struct {
	endpoint string
	id       int64
}

func route(method, path string) routed {
	p := strings.Trim(path, "/")
	coll, idStr, hasID := strings.Cut(p, "/")
	if strings.Contains(idStr, "/") {
		return routed{}
	}
	var id int64
	if hasID {
		n, err := strconv.ParseInt(idStr, 10, 64)
		if err != nil || n <= 0 {
			return routed{}
		}
		id = n
	}
	switch {
	case coll == "products" && !hasID && method == http.MethodGet:
		return routed{endpoint: EpProductList}
	case coll == "products" && hasID && method == http.MethodGet:
		return routed{endpoint: EpProductGet, id: id}
	case coll == "products" && hasID && method == http.MethodPatch:
		return routed{endpoint: EpProductPatch, id: id}
	case coll == "orders" && !hasID && method == http.MethodGet:
		return routed{endpoint: EpOrderList}
	case coll == "orders" && hasID && method == http.MethodGet:
		return routed{endpoint: EpOrderGet, id: id}
	case coll == "orders" && hasID && method == http.MethodPatch:
		return routed{endpoint: EpOrderPatch, id: id}
	}
	return routed{}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, st *store, rt routed, now time.Time) {
	switch rt.endpoint {
	case EpProductList:
		s.listProducts(w, r, st)
	case EpProductGet:
		st.data.Lock()
		p, ok := st.products[rt.id]
		var out map[string]any
		if ok {
			out = p.render(true)
		}
		st.data.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "NotFound", "Product not found")
			return
		}
		writeJSON(w, http.StatusOK, out)
	case EpProductPatch:
		st.countWrite()
		s.patchProduct(w, r, st, rt.id, now)
	case EpOrderList:
		s.listOrders(w, r, st)
	case EpOrderGet:
		st.data.Lock()
		o, ok := st.orders[rt.id]
		var out []byte
		if ok {
			out, _ = json.Marshal(o)
		}
		st.data.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "NotFound", "Order not found")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	case EpOrderPatch:
		s.patchOrder(w, r, st, rt.id, now)
	}
}

// page reads start and limit (limit capped at MaxPageLimit, default 20).
func page(r *http.Request) (start, limit int, bad string) {
	q := r.URL.Query()
	start, limit = 0, 20
	if v := q.Get("start"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, "start must be a non-negative integer"
		}
		start = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, "limit must be a positive integer"
		}
		limit = min(n, MaxPageLimit)
	}
	return start, limit, ""
}

func listEnvelope(path string, data []map[string]any, total, start, limit int, extra string) map[string]any {
	var next any
	if start+len(data) < total {
		next = fmt.Sprintf("%s?start=%d&limit=%d%s", path, start+len(data), limit, extra)
	}
	var prev any
	if start > 0 {
		prev = fmt.Sprintf("%s?start=%d&limit=%d%s", path, max(start-limit, 0), limit, extra)
	}
	return map[string]any{
		"data": data,
		"meta": map[string]any{
			"count": map[string]any{"total": total, "start": start, "current": len(data), "limit": limit},
			"links": map[string]any{"next": next, "prev": prev},
		},
	}
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request, st *store) {
	start, limit, bad := page(r)
	if bad != "" {
		writeError(w, http.StatusBadRequest, "ValidationError", bad)
		return
	}
	withVariants := strings.Contains(r.URL.Query().Get("include"), "variants")
	st.data.Lock()
	ids := st.productIDs()
	data := []map[string]any{}
	for i := start; i < len(ids) && len(data) < limit; i++ {
		data = append(data, st.products[ids[i]].render(withVariants))
	}
	total := len(ids)
	st.data.Unlock()
	extra := ""
	if withVariants {
		extra = "&include=variants"
	}
	writeJSON(w, http.StatusOK, listEnvelope("/"+st.id+"/api/v2/products", data, total, start, limit, extra))
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, st *store) {
	start, limit, bad := page(r)
	if bad != "" {
		writeError(w, http.StatusBadRequest, "ValidationError", bad)
		return
	}
	st.data.Lock()
	ids := make([]int64, 0, len(st.orders))
	for id := range st.orders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	data := []map[string]any{}
	for i := start; i < len(ids) && len(data) < limit; i++ {
		data = append(data, st.orders[ids[i]])
	}
	total := len(ids)
	out, err := json.Marshal(listEnvelope("/"+st.id+"/api/v2/orders", data, total, start, limit, ""))
	st.data.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalError", "encoding orders")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func num(d decimal.Decimal) json.Number { return json.Number(d.StringFixed(2)) }

// render is the product as the API shows it. Caller holds the data lock.
func (p *Product) render(withVariants bool) map[string]any {
	out := map[string]any{
		"id": p.ID, "type": p.Type, "sku": p.SKU, "name": p.Name, "description": p.Description,
		"category_name": p.Category, "ean": p.EAN, "status": p.Status, "inventory_enabled": true,
		"date_modified": p.Modified.Format(time.RFC3339),
	}
	if p.Type != "multi_variant" {
		out["stock"] = p.Stock
		out["price_gross"], out["price_net"] = num(p.PriceGross), num(p.PriceNet)
		out["old_price_gross"], out["old_price_net"] = num(p.OldPriceGross), num(p.OldPriceNet)
		out["cost_gross"], out["cost_net"] = num(p.CostGross), num(p.CostNet)
	}
	if len(p.Images) > 0 {
		imgs := make([]map[string]any, len(p.Images))
		for i, u := range p.Images {
			imgs[i] = map[string]any{"id": i + 1, "url": u}
		}
		out["images"] = imgs
	}
	if withVariants && p.Type == "multi_variant" {
		vs := make([]map[string]any, len(p.Variants))
		for i, v := range p.Variants {
			opts := make([]map[string]string, len(v.Options))
			for j, o := range v.Options {
				opts[j] = map[string]string{"name": o[0], "value": o[1]}
			}
			vs[i] = map[string]any{
				"id": v.ID, "sku": v.SKU, "ean": v.EAN, "inventory_enabled": true, "stock": v.Stock,
				"price_gross": num(v.PriceGross), "price_net": num(v.PriceNet),
				"old_price_gross": num(v.OldPriceGross), "old_price_net": num(v.OldPriceNet),
				"cost_gross": num(v.CostGross), "cost_net": num(v.CostNet), "variant_options": opts,
			}
		}
		out["variants"] = vs
	}
	return out
}

// priceFields are the money fields a product or variant accepts.
var priceFields = []string{"price_gross", "price_net", "old_price_gross", "old_price_net", "cost_gross", "cost_net"}

type itemPatch struct {
	stock  *int64
	prices map[string]decimal.Decimal
	sku    *string
	ean    *string
}

// parseItem validates stock, price and code fields of a product or variant body.
func parseItem(where string, f map[string]json.RawMessage, allowed map[string]bool) (itemPatch, string) {
	var ip itemPatch
	for k := range f {
		if !allowed[k] {
			return ip, fmt.Sprintf("%s%s: unknown field", where, k)
		}
	}
	if raw, ok := f["stock"]; ok {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return ip, where + "stock: must be an integer"
		}
		v, err := n.Int64()
		if err != nil || v < 0 {
			return ip, where + "stock: must be a non-negative integer"
		}
		ip.stock = &v
	}
	for _, name := range priceFields {
		raw, ok := f[name]
		if !ok {
			continue
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return ip, where + name + ": must be a number"
			}
			n = json.Number(s)
		}
		d, err := decimal.NewFromString(string(n))
		if err != nil || d.IsNegative() {
			return ip, where + name + ": must be a non-negative number"
		}
		if ip.prices == nil {
			ip.prices = map[string]decimal.Decimal{}
		}
		ip.prices[name] = d
	}
	for _, name := range []string{"sku", "ean"} {
		raw, ok := f[name]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ip, where + name + ": must be a string"
		}
		if name == "sku" {
			ip.sku = &s
		} else {
			ip.ean = &s
		}
	}
	return ip, ""
}

func setPrices(m map[string]decimal.Decimal, pg, pn, opg, opn, cg, cn *decimal.Decimal) {
	for k, d := range m {
		switch k {
		case "price_gross":
			*pg = d
		case "price_net":
			*pn = d
		case "old_price_gross":
			*opg = d
		case "old_price_net":
			*opn = d
		case "cost_gross":
			*cg = d
		case "cost_net":
			*cn = d
		}
	}
}

var (
	productFields = map[string]bool{"stock": true, "sku": true, "ean": true, "name": true, "description": true,
		"status": true, "variants": true, "ext_ref": true, "price_gross": true, "price_net": true,
		"old_price_gross": true, "old_price_net": true, "cost_gross": true, "cost_net": true, "weight": true}
	variantFields = map[string]bool{"id": true, "stock": true, "sku": true, "ean": true, "ext_ref": true,
		"price_gross": true, "price_net": true, "old_price_gross": true, "old_price_net": true,
		"cost_gross": true, "cost_net": true}
)

type change struct {
	variantID string
	stock     *int64
	price     *decimal.Decimal
}

// patchProduct validates the whole body first, then applies it: a bad variant fails
// the request and changes nothing, as a validation error does on the platform.
func (s *Server) patchProduct(w http.ResponseWriter, r *http.Request, st *store, id int64, now time.Time) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	raw, err := io.ReadAll(r.Body)
	var body map[string]json.RawMessage
	if err != nil || json.Unmarshal(raw, &body) != nil || body == nil {
		writeError(w, http.StatusBadRequest, "BadRequest", "body is not a JSON object")
		return
	}
	top, bad := parseItem("", body, productFields)
	if bad != "" {
		writeError(w, http.StatusBadRequest, "ValidationError", bad)
		return
	}
	var name, desc, status *string
	for key, dst := range map[string]**string{"name": &name, "description": &desc, "status": &status} {
		if rawv, ok := body[key]; ok {
			var sv string
			if json.Unmarshal(rawv, &sv) != nil {
				writeError(w, http.StatusBadRequest, "ValidationError", key+": must be a string")
				return
			}
			*dst = &sv
		}
	}
	if name != nil && strings.TrimSpace(*name) == "" {
		writeError(w, http.StatusBadRequest, "ValidationError", "name: cannot be empty")
		return
	}
	if status != nil && *status != "active" && *status != "inactive" {
		writeError(w, http.StatusBadRequest, "ValidationError", "status: must be active or inactive")
		return
	}
	var rawVariants []map[string]json.RawMessage
	if rv, ok := body["variants"]; ok {
		if json.Unmarshal(rv, &rawVariants) != nil {
			writeError(w, http.StatusBadRequest, "ValidationError", "variants: must be an array of objects")
			return
		}
	}
	type vpatch struct {
		id int64
		itemPatch
	}
	vps := make([]vpatch, len(rawVariants))
	for i, f := range rawVariants {
		where := fmt.Sprintf("variants[%d].", i)
		ip, bad := parseItem(where, f, variantFields)
		if bad != "" {
			writeError(w, http.StatusBadRequest, "ValidationError", bad)
			return
		}
		var vid json.Number
		if json.Unmarshal(f["id"], &vid) != nil {
			writeError(w, http.StatusBadRequest, "ValidationError", where+"id: is required")
			return
		}
		n, err := vid.Int64()
		if err != nil {
			writeError(w, http.StatusBadRequest, "ValidationError", where+"id: must be an integer")
			return
		}
		vps[i] = vpatch{n, ip}
	}

	var changes []change
	st.data.Lock()
	p, ok := st.products[id]
	if !ok {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "NotFound", "Product not found")
		return
	}
	if p.Type == "multi_variant" {
		_, hasWeight := body["weight"]
		if top.stock != nil || len(top.prices) > 0 || hasWeight {
			st.data.Unlock()
			writeError(w, http.StatusBadRequest, "ValidationError",
				"stock, prices and weight of a multi_variant product are set on its variants")
			return
		}
	} else if len(vps) > 0 {
		st.data.Unlock()
		writeError(w, http.StatusBadRequest, "ValidationError", "variants: product has no variants")
		return
	}
	targets := make([]*Variant, len(vps))
	for i, vp := range vps {
		for _, v := range p.Variants {
			if v.ID == vp.id {
				targets[i] = v
			}
		}
		if targets[i] == nil {
			st.data.Unlock()
			writeError(w, http.StatusBadRequest, "ValidationError",
				fmt.Sprintf("variants[%d].id: variant %d does not belong to product %d", i, vp.id, id))
			return
		}
	}
	// Apply.
	oldPrice := p.PriceGross
	if top.stock != nil && *top.stock != p.Stock {
		p.Stock = *top.stock
		changes = append(changes, change{stock: top.stock})
	}
	setPrices(top.prices, &p.PriceGross, &p.PriceNet, &p.OldPriceGross, &p.OldPriceNet, &p.CostGross, &p.CostNet)
	if !p.PriceGross.Equal(oldPrice) {
		pg := p.PriceGross
		changes = append(changes, change{price: &pg})
	}
	if top.sku != nil {
		p.SKU = *top.sku
	}
	if top.ean != nil {
		p.EAN = *top.ean
	}
	if name != nil {
		p.Name = *name
	}
	if desc != nil {
		p.Description = *desc
	}
	if status != nil {
		p.Status = *status
	}
	for i, vp := range vps {
		v := targets[i]
		vid := strconv.FormatInt(v.ID, 10)
		if vp.stock != nil && *vp.stock != v.Stock {
			v.Stock = *vp.stock
			changes = append(changes, change{variantID: vid, stock: vp.stock})
		}
		old := v.PriceGross
		setPrices(vp.prices, &v.PriceGross, &v.PriceNet, &v.OldPriceGross, &v.OldPriceNet, &v.CostGross, &v.CostNet)
		if !v.PriceGross.Equal(old) {
			pg := v.PriceGross
			changes = append(changes, change{variantID: vid, price: &pg})
		}
		if vp.sku != nil {
			v.SKU = *vp.sku
		}
		if vp.ean != nil {
			v.EAN = *vp.ean
		}
	}
	p.Modified = now.UTC()
	out := p.render(true)
	st.patches = append(st.patches, Patch{Endpoint: EpProductPatch, ID: strconv.FormatInt(id, 10), Body: raw, At: now})
	if len(st.patches) > 1000 {
		st.patches = st.patches[len(st.patches)-1000:]
	}
	st.data.Unlock()

	pid := strconv.FormatInt(id, 10)
	for _, c := range changes {
		if c.stock != nil && s.opts.OnStockWrite != nil {
			s.opts.OnStockWrite(st.id, pid, c.variantID, *c.stock, now)
		}
		if c.price != nil && s.opts.OnPriceWrite != nil {
			s.opts.OnPriceWrite(st.id, pid, c.variantID, *c.price, now)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

var orderFields = map[string]bool{"status": true, "payment_status": true, "tracking_number": true,
	"tracking_url": true, "carrier": true, "invoice_number": true, "invoice_url": true}

func (s *Server) patchOrder(w http.ResponseWriter, r *http.Request, st *store, id int64, now time.Time) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	raw, err := io.ReadAll(r.Body)
	var body map[string]json.RawMessage
	if err != nil || json.Unmarshal(raw, &body) != nil || body == nil {
		writeError(w, http.StatusBadRequest, "BadRequest", "body is not a JSON object")
		return
	}
	vals := map[string]string{}
	for k, v := range body {
		if !orderFields[k] {
			writeError(w, http.StatusBadRequest, "ValidationError", k+": unknown field")
			return
		}
		var sv string
		if json.Unmarshal(v, &sv) != nil {
			writeError(w, http.StatusBadRequest, "ValidationError", k+": must be a string")
			return
		}
		vals[k] = sv
	}
	if st, ok := vals["status"]; ok && !validStatus(st) {
		writeError(w, http.StatusBadRequest, "ValidationError", "status: unknown order status "+strconv.Quote(st))
		return
	}
	st.data.Lock()
	o, ok := st.orders[id]
	if !ok {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "NotFound", "Order not found")
		return
	}
	for k, v := range vals {
		o[k] = v
	}
	o["date_modified"] = now.UTC().Format(time.RFC3339)
	st.patches = append(st.patches, Patch{Endpoint: EpOrderPatch, ID: strconv.FormatInt(id, 10), Body: raw, At: now})
	out, _ := json.Marshal(o)
	st.data.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func validStatus(s string) bool {
	for _, v := range OrderStatuses {
		if v == s {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"name":"InternalError","message":"encoding"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers MerchantPro's error body: {"error":{"name":...,"message":...}}.
func writeError(w http.ResponseWriter, status int, name, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"name": name, "message": msg}})
}

// writeRateLimited answers 429 with Retry-After in whole seconds, rounded up.
func writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeError(w, http.StatusTooManyRequests, "TooManyRequests", "API rate limit exceeded")
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
