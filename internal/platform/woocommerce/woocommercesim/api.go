package woocommercesim

import (
	"bytes"
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
	EpProducts        = "GET /products"
	EpProduct         = "GET /products/{id}"
	EpProductPut      = "PUT /products/{id}"
	EpProductsBatch   = "POST /products/batch"
	EpVariations      = "GET /products/{id}/variations"
	EpVariation       = "GET /products/{id}/variations/{id}"
	EpVariationPut    = "PUT /products/{id}/variations/{id}"
	EpVariationsBatch = "POST /products/{id}/variations/batch"
	EpOrders          = "GET /orders"
	EpOrder           = "GET /orders/{id}"
	EpOrderPut        = "PUT /orders/{id}"
	EpOrderNote       = "POST /orders/{id}/notes"
)

type routed struct {
	endpoint string
	parent   int64
	id       int64
}

// route maps method and path (after /wp-json/wc/v3) to an endpoint.
func route(method, path string) routed {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	n := len(seg)
	num := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			return -1
		}
		return v
	}
	get, put, post := method == http.MethodGet, method == http.MethodPut || method == http.MethodPatch, method == http.MethodPost
	switch {
	case seg[0] == "products" && n == 1 && get:
		return routed{endpoint: EpProducts}
	case seg[0] == "products" && n == 2 && seg[1] == "batch" && (post || put):
		return routed{endpoint: EpProductsBatch}
	case seg[0] == "products" && n == 2 && num(seg[1]) > 0 && get:
		return routed{endpoint: EpProduct, id: num(seg[1])}
	case seg[0] == "products" && n == 2 && num(seg[1]) > 0 && put:
		return routed{endpoint: EpProductPut, id: num(seg[1])}
	case seg[0] == "products" && n == 3 && seg[2] == "variations" && num(seg[1]) > 0 && get:
		return routed{endpoint: EpVariations, parent: num(seg[1])}
	case seg[0] == "products" && n == 4 && seg[2] == "variations" && seg[3] == "batch" && num(seg[1]) > 0 && (post || put):
		return routed{endpoint: EpVariationsBatch, parent: num(seg[1])}
	case seg[0] == "products" && n == 4 && seg[2] == "variations" && num(seg[1]) > 0 && num(seg[3]) > 0 && get:
		return routed{endpoint: EpVariation, parent: num(seg[1]), id: num(seg[3])}
	case seg[0] == "products" && n == 4 && seg[2] == "variations" && num(seg[1]) > 0 && num(seg[3]) > 0 && put:
		return routed{endpoint: EpVariationPut, parent: num(seg[1]), id: num(seg[3])}
	case seg[0] == "orders" && n == 1 && get:
		return routed{endpoint: EpOrders}
	case seg[0] == "orders" && n == 2 && num(seg[1]) > 0 && get:
		return routed{endpoint: EpOrder, id: num(seg[1])}
	case seg[0] == "orders" && n == 2 && num(seg[1]) > 0 && put:
		return routed{endpoint: EpOrderPut, id: num(seg[1])}
	case seg[0] == "orders" && n == 3 && seg[2] == "notes" && num(seg[1]) > 0 && post:
		return routed{endpoint: EpOrderNote, id: num(seg[1])}
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
	var body []byte
	if r.Method != http.MethodGet {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "rest_invalid_json", "Request body too large.")
			return
		}
	}
	switch rt.endpoint {
	case EpProducts, EpVariations:
		s.listItems(w, r, st, rt)
	case EpProduct, EpVariation:
		st.data.Lock()
		it, ok := st.items[rt.id]
		var out []byte
		if ok && it.ParentID == max(rt.parent, 0) {
			out, _ = json.Marshal(st.render(it))
		}
		st.data.Unlock()
		if out == nil {
			writeError(w, http.StatusNotFound, "woocommerce_rest_product_invalid_id", "Invalid ID.")
			return
		}
		writeRaw(w, http.StatusOK, out)
	case EpProductPut, EpVariationPut:
		var f map[string]json.RawMessage
		if json.Unmarshal(body, &f) != nil {
			writeError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
			return
		}
		res, changes, status := st.updateItem(rt.id, rt.parent, f)
		s.notify(st.id, changes, now)
		writeJSON(w, status, res)
	case EpProductsBatch, EpVariationsBatch:
		s.batch(w, st, rt, body, now)
	case EpOrders:
		s.listOrders(w, r, st)
	case EpOrder, EpOrderPut:
		s.order(w, st, rt, body, now)
	case EpOrderNote:
		s.addNote(w, st, rt, body)
	}
}

func (s *Server) notify(store string, changes []change, now time.Time) {
	for _, ch := range changes {
		if ch.stock != nil && s.opts.OnStockWrite != nil {
			s.opts.OnStockWrite(store, ch.productID, ch.variantID, *ch.stock, now)
		}
		if ch.price != nil && s.opts.OnPriceWrite != nil {
			s.opts.OnPriceWrite(store, ch.productID, ch.variantID, *ch.price, now)
		}
	}
}

// batch applies POST products/batch or products/{id}/variations/batch.
func (s *Server) batch(w http.ResponseWriter, st *store, rt routed, body []byte, now time.Time) {
	var req struct {
		Create []json.RawMessage `json:"create"`
		Update []json.RawMessage `json:"update"`
		Delete []json.RawMessage `json:"delete"`
	}
	if json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
		return
	}
	if n := len(req.Create) + len(req.Update) + len(req.Delete); n > s.opts.BatchLimit {
		writeError(w, http.StatusRequestEntityTooLarge, "woocommerce_rest_request_entity_too_large",
			"Unable to accept more than "+strconv.Itoa(s.opts.BatchLimit)+" items for this request.")
		return
	}
	if len(req.Create) > 0 || len(req.Delete) > 0 {
		writeError(w, http.StatusBadRequest, "rest_invalid_param", "The simulator only supports batch updates.")
		return
	}
	items := make([]map[string]json.RawMessage, len(req.Update))
	ids := make([]int64, len(req.Update))
	for i, raw := range req.Update {
		if json.Unmarshal(raw, &items[i]) != nil || items[i] == nil {
			writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): update")
			return
		}
		ids[i], _ = strconv.ParseInt(strings.Trim(string(items[i]["id"]), `" `), 10, 64)
	}
	if st.poisoned(ids) {
		writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): update (rejected by a plugin)")
		return
	}
	if rt.endpoint == EpVariationsBatch {
		st.data.Lock()
		p, ok := st.items[rt.parent]
		st.data.Unlock()
		if !ok || p.ParentID != 0 {
			writeError(w, http.StatusNotFound, "woocommerce_rest_product_invalid_id", "Invalid ID.")
			return
		}
	}
	results := make([]any, len(items))
	var all []change
	for i, f := range items {
		res, changes, status := st.updateItem(ids[i], max(rt.parent, 0), f)
		if status != http.StatusOK {
			results[i] = struct {
				ID    int64 `json:"id"`
				Error any   `json:"error"`
			}{ids[i], res}
			continue
		}
		results[i] = res
		all = append(all, changes...)
	}
	st.data.Lock()
	if len(st.batches) >= 1000 {
		st.batches = st.batches[1:]
	}
	st.batches = append(st.batches, len(items))
	st.data.Unlock()
	s.notify(st.id, all, now)
	writeJSON(w, http.StatusOK, map[string]any{"update": results})
}

// updateItem validates then applies one product/variation update. It returns the
// rendered item (or an error object), the changes to report and the HTTP status.
func (st *store) updateItem(id, parent int64, f map[string]json.RawMessage) (any, []change, int) {
	st.data.Lock()
	defer st.data.Unlock()
	it, ok := st.items[id]
	if !ok || it.ParentID != parent {
		code := "woocommerce_rest_product_invalid_id"
		if parent > 0 {
			code = "woocommerce_rest_product_variation_invalid_id"
		}
		return errObj(code, "Invalid ID.", http.StatusBadRequest), nil, http.StatusBadRequest
	}
	next := *it
	for k, raw := range f {
		var err bool
		switch k {
		case "id":
		case "stock_quantity":
			var n json.Number
			d, e := decimal.NewFromString(string(raw))
			if json.Unmarshal(raw, &n) != nil || e != nil || !d.IsInteger() {
				err = true
			} else {
				next.Stock = d.IntPart()
			}
		case "manage_stock":
			err = json.Unmarshal(raw, &next.ManageStock) != nil
		case "regular_price", "sale_price":
			var v string
			if json.Unmarshal(raw, &v) != nil {
				err = true
			} else if v != "" {
				if d, e := decimal.NewFromString(v); e != nil || d.IsNegative() {
					err = true
				}
			}
			if k == "regular_price" {
				next.Regular = v
			} else {
				next.Sale = v
			}
		case "name", "description", "status", "global_unique_id", "weight", "sku":
			var v string
			if json.Unmarshal(raw, &v) != nil {
				err = true
				break
			}
			switch k {
			case "name":
				next.Name = v
			case "description":
				next.Description = v
			case "status":
				next.Status = v
			case "global_unique_id":
				next.GlobalID = v
			case "weight":
				next.Weight = v
			case "sku":
				next.SKU = v
			}
		case "meta_data":
			var md []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			}
			if json.Unmarshal(raw, &md) != nil {
				err = true
				break
			}
			meta := map[string]string{}
			for k, v := range it.Meta {
				meta[k] = v
			}
			for _, m := range md {
				meta[m.Key] = m.Value
			}
			next.Meta = meta
		}
		if err {
			return errObj("rest_invalid_param", "Invalid parameter(s): "+k, http.StatusBadRequest), nil, http.StatusBadRequest
		}
	}
	if next.GlobalID != "" && next.GlobalID != it.GlobalID {
		for _, o := range st.items {
			if o.ID != id && o.GlobalID == next.GlobalID {
				return errObj("product_invalid_global_unique_id", "Invalid or duplicated GTIN, UPC, EAN or ISBN.", http.StatusBadRequest), nil, http.StatusBadRequest
			}
		}
	}
	ch := change{productID: strconv.FormatInt(id, 10)}
	if parent > 0 {
		ch.productID, ch.variantID = strconv.FormatInt(parent, 10), strconv.FormatInt(id, 10)
	}
	if next.ManageStock && (next.Stock != it.Stock || !it.ManageStock) {
		n := next.Stock
		ch.stock = &n
	}
	if p := next.Price(); !p.Equal(it.Price()) {
		ch.price = &p
	}
	*it = next
	var changes []change
	if ch.stock != nil || ch.price != nil {
		changes = append(changes, ch)
	}
	return st.render(it), changes, http.StatusOK
}

// render is an item as the REST API shows it. Caller holds data.
func (st *store) render(it *Item) map[string]any {
	var stock any
	if it.ManageStock {
		stock = it.Stock
	}
	meta := []map[string]any{}
	keys := make([]string, 0, len(it.Meta))
	for k := range it.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		meta = append(meta, map[string]any{"id": i + 1, "key": k, "value": it.Meta[k]})
	}
	price := ""
	if it.Regular != "" {
		price = it.Price().StringFixed(2)
	}
	out := map[string]any{
		"id": it.ID, "name": it.Name, "type": it.Type, "status": it.Status, "sku": it.SKU,
		"description": it.Description, "global_unique_id": it.GlobalID, "weight": it.Weight,
		"price": price, "regular_price": it.Regular, "sale_price": it.Sale,
		"manage_stock": it.ManageStock, "stock_quantity": stock, "meta_data": meta,
		"categories": []any{}, "images": []any{}, "attributes": []any{},
	}
	if it.ParentID > 0 {
		out["parent_id"] = it.ParentID
		out["attributes"] = []map[string]any{{"id": 0, "name": "Option", "option": it.SKU}}
		out["image"] = nil
		delete(out, "images")
		delete(out, "categories")
	}
	if it.Type == "variable" {
		var vars []int64
		for _, v := range st.items {
			if v.ParentID == it.ID {
				vars = append(vars, v.ID)
			}
		}
		sort.Slice(vars, func(a, b int) bool { return vars[a] < vars[b] })
		out["variations"] = vars
		out["manage_stock"], out["stock_quantity"] = false, nil
	}
	return out
}

// page reads page/per_page the way WooCommerce validates them.
func page(w http.ResponseWriter, r *http.Request) (pg, per int, ok bool) {
	q := r.URL.Query()
	pg, per = 1, 10
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): page")
			return 0, 0, false
		}
		pg = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): per_page")
			return 0, 0, false
		}
		per = n
	}
	return pg, per, true
}

func paged[T any](w http.ResponseWriter, all []T, pg, per int) []T {
	total := len(all)
	pages := (total + per - 1) / per
	w.Header().Set("X-WP-Total", strconv.Itoa(total))
	w.Header().Set("X-WP-TotalPages", strconv.Itoa(pages))
	from := min((pg-1)*per, total)
	return all[from:min(from+per, total)]
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request, st *store, rt routed) {
	pg, per, ok := page(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var include map[int64]bool
	if v := q.Get("include"); v != "" {
		include = map[int64]bool{}
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): include")
				return
			}
			include[n] = true
		}
	}
	parent := max(rt.parent, 0)
	st.data.Lock()
	if rt.endpoint == EpVariations {
		if p, ok := st.items[parent]; !ok || p.ParentID != 0 {
			st.data.Unlock()
			writeError(w, http.StatusNotFound, "woocommerce_rest_product_invalid_id", "Invalid ID.")
			return
		}
	}
	var sel []*Item
	for _, it := range st.items {
		if it.ParentID == parent && (include == nil || include[it.ID]) {
			sel = append(sel, it)
		}
	}
	asc := q.Get("order") == "asc"
	sort.Slice(sel, func(a, b int) bool { return (sel[a].ID < sel[b].ID) == asc })
	sel = paged(w, sel, pg, per)
	out := make([]map[string]any, len(sel))
	for i, it := range sel {
		out[i] = st.render(it)
	}
	st.data.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, st *store) {
	pg, per, ok := page(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var after time.Time
	if v := q.Get("modified_after"); v != "" {
		t, err := time.Parse("2006-01-02T15:04:05", strings.TrimSuffix(v, "Z"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): modified_after")
			return
		}
		after = t
	}
	type row struct {
		id  int64
		mod string
		o   map[string]any
	}
	st.data.Lock()
	var rows []row
	for id, o := range st.orders {
		mod, _ := o["date_modified_gmt"].(string)
		if !after.IsZero() {
			t, err := time.Parse("2006-01-02T15:04:05", mod)
			if err != nil || !t.After(after) {
				continue
			}
		}
		rows = append(rows, row{id, mod, o})
	}
	byMod := q.Get("orderby") == "modified"
	asc := q.Get("order") == "asc"
	sort.Slice(rows, func(a, b int) bool {
		if byMod && rows[a].mod != rows[b].mod {
			return (rows[a].mod < rows[b].mod) == asc
		}
		return (rows[a].id < rows[b].id) == asc
	})
	rows = paged(w, rows, pg, per)
	// Joined by hand: json.Marshal would re-compact the verbatim bodies.
	out := make([][]byte, len(rows))
	for i, rw := range rows {
		if raw := st.raw[rw.id]; raw != nil {
			out[i] = raw
		} else {
			out[i], _ = json.Marshal(rw.o)
		}
	}
	b := append(append([]byte{'['}, bytes.Join(out, []byte{','})...), ']')
	st.data.Unlock()
	writeRaw(w, http.StatusOK, b)
}

func (s *Server) order(w http.ResponseWriter, st *store, rt routed, body []byte, now time.Time) {
	var f struct {
		Status   *string `json:"status"`
		MetaData []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"meta_data"`
	}
	if rt.endpoint == EpOrderPut && json.Unmarshal(body, &f) != nil {
		writeError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
		return
	}
	st.data.Lock()
	o, ok := st.orders[rt.id]
	if !ok {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
		return
	}
	if rt.endpoint == EpOrderPut {
		if f.Status != nil {
			switch *f.Status {
			case "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft":
				o["status"] = *f.Status
			default:
				st.data.Unlock()
				writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): status")
				return
			}
		}
		meta, _ := o["meta_data"].([]any)
		for _, m := range f.MetaData {
			replaced := false
			for _, old := range meta {
				if om, ok := old.(map[string]any); ok && om["key"] == m.Key {
					om["value"], replaced = m.Value, true
				}
			}
			if !replaced {
				meta = append(meta, map[string]any{"id": len(meta) + 1, "key": m.Key, "value": m.Value})
			}
		}
		if meta != nil {
			o["meta_data"] = meta
		}
		o["date_modified_gmt"] = now.UTC().Format("2006-01-02T15:04:05")
		delete(st.raw, rt.id) // the stored bytes no longer say what the order is
	}
	b := st.raw[rt.id]
	if b == nil {
		b, _ = json.Marshal(o)
	}
	st.data.Unlock()
	writeRaw(w, http.StatusOK, b)
}

func (s *Server) addNote(w http.ResponseWriter, st *store, rt routed, body []byte) {
	var f struct {
		Note         string `json:"note"`
		CustomerNote bool   `json:"customer_note"`
	}
	if json.Unmarshal(body, &f) != nil || f.Note == "" {
		writeError(w, http.StatusBadRequest, "rest_missing_callback_param", "Missing parameter(s): note")
		return
	}
	st.data.Lock()
	if _, ok := st.orders[rt.id]; !ok {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
		return
	}
	st.nextID++
	n := Note{ID: st.nextID, Note: f.Note, Customer: f.CustomerNote}
	st.notes[rt.id] = append(st.notes[rt.id], n)
	st.data.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": n.ID, "note": n.Note, "customer_note": n.Customer})
}

func errObj(code, msg string, status int) map[string]any {
	return map[string]any{"code": code, "message": msg, "data": map[string]any{"status": status}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers in the WP REST error shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errObj(code, msg, status))
}

// writeLimit answers 429 the way WooCommerce's Store API limiter does.
func writeLimit(w http.ResponseWriter, wait time.Duration, limit int) {
	secs := int((wait + time.Second - 1) / time.Second)
	secs = max(secs, 1)
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(secs))
	h.Set("RateLimit-Limit", strconv.Itoa(limit))
	h.Set("RateLimit-Remaining", "0")
	h.Set("RateLimit-Reset", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded",
		"Too many requests. Please wait "+strconv.Itoa(secs)+" seconds before trying again.")
}
