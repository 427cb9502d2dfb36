package nuvemshopsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// stockChange is one observed stock change, reported after the data lock is released.
type stockChange struct {
	productID, variantID string
	stock                int64
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, st *store, rt routed, now time.Time) {
	var raw []byte
	if r.Method != http.MethodGet {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request", "Body too large or unreadable")
			return
		}
		raw = b
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "Content-Type must be application/json")
			return
		}
		if !json.Valid(raw) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Problems parsing JSON"})
			return
		}
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	var changes []stockChange
	switch rt.endpoint {
	case EpProducts:
		s.listProducts(rec, r, st)
	case EpProductGet:
		st.data.Lock()
		p, ok := st.products[rt.id]
		var out map[string]any
		if ok {
			out = st.productJSON(p)
		}
		st.data.Unlock()
		if !ok {
			writeError(rec, http.StatusNotFound, "Not Found", "Product not found")
			return
		}
		writeJSON(rec, http.StatusOK, out)
	case EpVariantGet:
		st.data.Lock()
		v, ok := st.variants[rt.vid]
		ok = ok && v.ProductID == rt.id
		var out map[string]any
		if ok {
			out = variantJSON(v)
		}
		st.data.Unlock()
		if !ok {
			writeError(rec, http.StatusNotFound, "Not Found", "Variant not found")
			return
		}
		writeJSON(rec, http.StatusOK, out)
	case EpStockPrice:
		changes = s.stockPrice(rec, st, raw)
	case EpVariantPut:
		changes = s.putVariant(rec, st, rt, raw)
	case EpProductPut:
		s.putProduct(rec, st, rt, raw)
	case EpOrderGet:
		st.data.Lock()
		o, ok := st.orders[rt.id]
		var out []byte
		if ok {
			out = st.orderBody(rt.id, o)
		}
		st.data.Unlock()
		if !ok {
			writeError(rec, http.StatusNotFound, "Not Found", "Order not found")
			return
		}
		rec.Header().Set("Content-Type", "application/json")
		_, _ = rec.Write(out)
	case EpOrderAction:
		s.orderAction(rec, st, rt, raw, now)
	case EpOrders:
		s.listOrders(rec, r, st)
	case EpMetafields:
		s.listMetafields(rec, r, st, rt)
	case EpMetafieldPo:
		s.createMetafield(rec, st, raw, now)
	case EpMetafieldPu:
		s.updateMetafield(rec, st, rt, raw, now)
	}
	if writeEndpoints[rt.endpoint] {
		st.record(WriteRecord{Endpoint: rt.endpoint, Path: r.URL.Path, Body: raw, Status: rec.status, At: now}, s.opts.KeepWrites)
	}
	if s.opts.OnStockWrite != nil {
		for _, c := range changes {
			s.opts.OnStockWrite(st.id, c.productID, c.variantID, c.stock, now)
		}
	}
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (st *store) record(rec WriteRecord, keep int) {
	st.data.Lock()
	defer st.data.Unlock()
	if len(st.records) >= keep {
		n := copy(st.records, st.records[len(st.records)-keep+1:])
		st.records = st.records[:n]
	}
	st.records = append(st.records, rec)
}

// Writes returns the store's recorded write requests, oldest first.
func (s *Server) Writes(storeID string) []WriteRecord {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	return append([]WriteRecord(nil), st.records...)
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request, st *store) {
	q := r.URL.Query()
	page, perPage, ok := paging(w, q)
	if !ok {
		return
	}
	st.data.Lock()
	ids := st.order
	if f := q.Get("ids"); f != "" {
		want := strings.Split(f, ",")
		if len(want) > 30 {
			st.data.Unlock()
			writeError(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "At most 30 ids")
			return
		}
		ids = nil
		for _, id := range st.order {
			for _, x := range want {
				if strings.TrimSpace(x) == id {
					ids = append(ids, id)
					break
				}
			}
		}
	}
	total := len(ids)
	start := (page - 1) * perPage
	if start >= total && !(page == 1 && total == 0) {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Last page is "+strconv.Itoa(max(1, (total+perPage-1)/perPage)))
		return
	}
	end := min(start+perPage, total)
	out := make([]map[string]any, 0, end-start)
	for _, id := range ids[start:end] {
		out = append(out, st.productJSON(st.products[id]))
	}
	st.data.Unlock()
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if end < total {
		w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d&per_page=%d>; rel="next"`, r.URL.Path, page+1, perPage))
	}
	writeJSON(w, http.StatusOK, out)
}

// productJSON renders a product as the API does. Caller holds data.
func (st *store) productJSON(p *Product) map[string]any {
	vs := make([]map[string]any, 0, len(p.Variants))
	for _, vid := range p.Variants {
		if v := st.variants[vid]; v != nil {
			vs = append(vs, variantJSON(v))
		}
	}
	return map[string]any{
		"id": num(p.ID), "name": map[string]string{"pt": p.Name}, "description": map[string]string{"pt": p.Description},
		"brand": p.Brand, "published": p.Published, "attributes": []any{}, "categories": []any{}, "images": []any{},
		"variants": vs,
	}
}

func variantJSON(v *Variant) map[string]any {
	out := map[string]any{
		"id": num(v.ID), "product_id": num(v.ProductID), "price": v.Price.StringFixed(2),
		"promotional_price": nil, "cost": nil, "stock_management": v.Stock != nil, "stock": nil,
		"sku": nilIfEmpty(v.SKU), "barcode": nilIfEmpty(v.Barcode), "weight": v.Weight, "values": []any{},
	}
	if v.PromotionalPrice != nil {
		out["promotional_price"] = v.PromotionalPrice.StringFixed(2)
	}
	if v.Cost != nil {
		out["cost"] = v.Cost.StringFixed(2)
	}
	if v.Stock != nil {
		out["stock"] = *v.Stock
		out["inventory_levels"] = []map[string]any{{"location_id": "01SIMLOCATION", "stock": *v.Stock}}
	}
	return out
}

func num(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// variantFields are the writable variant fields the simulator understands.
type variantFields struct {
	price, promo, cost *decimal.Decimal
	clearPromo         bool
	stock              *int64
	barcode, weight    *string
}

// parseVariantFields validates a variant object; the answer is a field error list.
func parseVariantFields(f map[string]json.RawMessage) (variantFields, map[string][]string) {
	var out variantFields
	bad := map[string][]string{}
	money := func(name string) *decimal.Decimal {
		raw, ok := f[name]
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			return nil
		}
		d, err := number(raw)
		if err != nil {
			bad[name] = append(bad[name], "The "+name+" must be a number.")
			return nil
		}
		if d.IsNegative() {
			bad[name] = append(bad[name], "The "+name+" must be at least 0.")
			return nil
		}
		return &d
	}
	out.price, out.promo, out.cost = money("price"), money("promotional_price"), money("cost")
	if raw, ok := f["promotional_price"]; ok && string(bytes.TrimSpace(raw)) == "null" {
		out.clearPromo = true
	}
	stockOf := func(raw json.RawMessage) {
		d, err := number(raw)
		switch {
		case err != nil || !d.IsInteger():
			bad["stock"] = append(bad["stock"], "The stock must be an integer.")
		case d.IsNegative():
			bad["stock"] = append(bad["stock"], "The stock must be at least 0.")
		default:
			n := d.IntPart()
			out.stock = &n
		}
	}
	if raw, ok := f["stock"]; ok {
		stockOf(raw)
	}
	if raw, ok := f["inventory_levels"]; ok {
		var lv []map[string]json.RawMessage
		if json.Unmarshal(raw, &lv) != nil || len(lv) == 0 {
			bad["inventory_levels"] = append(bad["inventory_levels"], "The inventory levels must be a list.")
		} else {
			stockOf(lv[0]["stock"])
		}
	}
	for _, name := range []string{"barcode", "weight"} {
		if raw, ok := f[name]; ok {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				if _, err := number(raw); err == nil {
					s = strings.TrimSpace(string(raw))
				} else {
					bad[name] = append(bad[name], "The "+name+" is invalid.")
					continue
				}
			}
			if name == "barcode" {
				out.barcode = &s
			} else {
				out.weight = &s
			}
		}
	}
	return out, bad
}

// apply writes validated fields. Caller holds data.
func (v *Variant) apply(f variantFields) (changed bool) {
	if f.price != nil {
		v.Price = *f.price
	}
	if f.clearPromo {
		v.PromotionalPrice = nil
	} else if f.promo != nil {
		v.PromotionalPrice = f.promo
	}
	if f.cost != nil {
		v.Cost = f.cost
	}
	if f.barcode != nil {
		v.Barcode = *f.barcode
	}
	if f.weight != nil {
		v.Weight = *f.weight
	}
	if f.stock != nil && (v.Stock == nil || *v.Stock != *f.stock) {
		n := *f.stock
		v.Stock = &n
		return true
	}
	return false
}

func number(raw json.RawMessage) (decimal.Decimal, error) {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return decimal.Decimal{}, err
		}
	}
	if s == "" || len(s) > 32 || strings.ContainsAny(s, "eE") {
		return decimal.Decimal{}, fmt.Errorf("not a number")
	}
	return decimal.NewFromString(s)
}

func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

func (s *Server) stockPrice(w http.ResponseWriter, st *store, raw []byte) []stockChange {
	var prods []struct {
		ID       json.RawMessage              `json:"id"`
		Variants []map[string]json.RawMessage `json:"variants"`
	}
	if json.Unmarshal(raw, &prods) != nil {
		writeError(w, http.StatusBadRequest, "Bad Request", "Invalid input format")
		return nil
	}
	count := 0
	for _, p := range prods {
		count += len(p.Variants)
	}
	if count > s.opts.MaxBatch {
		writeError(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "Too many variants sent for update")
		return nil
	}
	fields := make([][]variantFields, len(prods))
	for i, p := range prods {
		if idString(p.ID) == "" {
			writeError(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "Product id is required")
			return nil
		}
		for _, v := range p.Variants {
			sub := map[string]json.RawMessage{}
			for _, k := range []string{"price", "inventory_levels", "stock"} {
				if raw, ok := v[k]; ok {
					sub[k] = raw
				}
			}
			f, bad := parseVariantFields(sub)
			if len(bad) > 0 {
				body := map[string]any{"code": 422, "message": "Unprocessable Entity", "description": "Validation error"}
				for k, msgs := range bad {
					body[k] = msgs
				}
				writeJSON(w, http.StatusUnprocessableEntity, body)
				return nil
			}
			fields[i] = append(fields[i], f)
		}
	}
	type vres struct {
		ID      any  `json:"id"`
		Success bool `json:"success"`
	}
	type pres struct {
		ID       any    `json:"id"`
		Variants []vres `json:"variants"`
	}
	out := make([]pres, 0, len(prods))
	var changes []stockChange
	st.data.Lock()
	for _, p := range prods {
		for _, v := range p.Variants {
			if msg, bad := st.rejects[idString(v["id"])]; bad {
				st.data.Unlock()
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": 422, "message": "Unprocessable Entity",
					"description": "Validation error", "price": []string{msg}})
				return nil
			}
		}
	}
	for i, p := range prods {
		pid := idString(p.ID)
		pr := pres{ID: num(pid)}
		for j, v := range p.Variants {
			vid := idString(v["id"])
			va, ok := st.variants[vid]
			ok = ok && va.ProductID == pid
			if ok && va.apply(fields[i][j]) {
				changes = append(changes, stockChange{pid, vid, *va.Stock})
			}
			pr.Variants = append(pr.Variants, vres{ID: num(vid), Success: ok})
		}
		out = append(out, pr)
	}
	st.data.Unlock()
	writeJSON(w, http.StatusOK, out)
	return changes
}

func (s *Server) putVariant(w http.ResponseWriter, st *store, rt routed, raw []byte) []stockChange {
	var f map[string]json.RawMessage
	if json.Unmarshal(raw, &f) != nil || f == nil {
		writeError(w, http.StatusBadRequest, "Bad Request", "Invalid input format")
		return nil
	}
	vf, bad := parseVariantFields(f)
	if len(bad) > 0 {
		body := map[string]any{"code": 422, "message": "Unprocessable Entity", "description": "Validation error"}
		for k, msgs := range bad {
			body[k] = msgs
		}
		writeJSON(w, http.StatusUnprocessableEntity, body)
		return nil
	}
	st.data.Lock()
	if msg, bad := st.rejects[rt.vid]; bad {
		st.data.Unlock()
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": 422, "message": "Unprocessable Entity",
			"description": "Validation error", "price": []string{msg}})
		return nil
	}
	v, ok := st.variants[rt.vid]
	if !ok || v.ProductID != rt.id {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Variant not found")
		return nil
	}
	var changes []stockChange
	if v.apply(vf) {
		changes = append(changes, stockChange{v.ProductID, v.ID, *v.Stock})
	}
	out := variantJSON(v)
	st.data.Unlock()
	writeJSON(w, http.StatusOK, out)
	return changes
}

func (s *Server) putProduct(w http.ResponseWriter, st *store, rt routed, raw []byte) {
	var f map[string]json.RawMessage
	if json.Unmarshal(raw, &f) != nil || f == nil {
		writeError(w, http.StatusBadRequest, "Bad Request", "Invalid input format")
		return
	}
	text := func(name string) (string, bool) {
		r, ok := f[name]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			return s, true
		}
		var m map[string]string
		if json.Unmarshal(r, &m) == nil {
			for _, k := range []string{"pt", "es", "en"} {
				if m[k] != "" {
					return m[k], true
				}
			}
		}
		return "", true
	}
	name, hasName := text("name")
	if hasName && strings.TrimSpace(name) == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"name": []string{"can't be blank"}})
		return
	}
	st.data.Lock()
	p, ok := st.products[rt.id]
	if !ok {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Product not found")
		return
	}
	if hasName {
		p.Name = name
	}
	if d, ok := text("description"); ok {
		p.Description = d
	}
	if b, ok := text("brand"); ok {
		p.Brand = b
	}
	if r, ok := f["published"]; ok {
		_ = json.Unmarshal(r, &p.Published)
	}
	out := st.productJSON(p)
	st.data.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// AddProduct creates a product with one variant holding stock and price.
func (s *Server) AddProduct(storeID, productID, variantID, sku string, stock int64, price decimal.Decimal) error {
	st := s.store(storeID)
	if st == nil {
		return fmt.Errorf("nuvemshopsim: no store %q", storeID)
	}
	st.data.Lock()
	defer st.data.Unlock()
	if _, dup := st.products[productID]; !dup {
		st.order = append(st.order, productID)
		sort.SliceStable(st.order, func(i, j int) bool { return lessID(st.order[i], st.order[j]) })
	}
	st.products[productID] = &Product{ID: productID, Name: "Product " + productID, Published: true, Variants: []string{variantID}}
	n := stock
	st.variants[variantID] = &Variant{ID: variantID, ProductID: productID, SKU: sku, Price: price, Stock: &n, Weight: "0.000"}
	return nil
}

// AddVariant adds a variant to an existing product.
func (s *Server) AddVariant(storeID, productID, variantID, sku string, stock int64, price decimal.Decimal) error {
	st := s.store(storeID)
	if st == nil {
		return fmt.Errorf("nuvemshopsim: no store %q", storeID)
	}
	st.data.Lock()
	defer st.data.Unlock()
	p, ok := st.products[productID]
	if !ok {
		return fmt.Errorf("nuvemshopsim: no product %q", productID)
	}
	p.Variants = append(p.Variants, variantID)
	n := stock
	st.variants[variantID] = &Variant{ID: variantID, ProductID: productID, SKU: sku, Price: price, Stock: &n, Weight: "0.000"}
	return nil
}

func lessID(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Product returns a copy of a product.
func (s *Server) Product(storeID, productID string) (Product, bool) {
	st := s.store(storeID)
	if st == nil {
		return Product{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	p, ok := st.products[productID]
	if !ok {
		return Product{}, false
	}
	cp := *p
	cp.Variants = append([]string(nil), p.Variants...)
	return cp, true
}

// Variant returns a copy of a variant.
func (s *Server) Variant(storeID, variantID string) (Variant, bool) {
	st := s.store(storeID)
	if st == nil {
		return Variant{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	v, ok := st.variants[variantID]
	if !ok {
		return Variant{}, false
	}
	return *v, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers in Nuvemshop's envelope {"code","message","description"}.
func writeError(w http.ResponseWriter, status int, msg, desc string) {
	writeJSON(w, status, map[string]any{"code": status, "message": msg, "description": desc})
}

// paging reads Nuvemshop's page (from 1) and per_page (default 30, at most 200), answering
// 422 as the API does when either is not a positive number.
func paging(w http.ResponseWriter, q url.Values) (page, perPage int, ok bool) {
	page, perPage = 1, 30
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &page}, {"per_page", &perPage}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "Invalid "+p.name)
			return 0, 0, false
		}
		*p.dst = n
	}
	return page, min(perPage, 200), true
}
