package traysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// OrderState is the part of an order that write-backs change.
type OrderState struct {
	StatusID, Status                      string
	SendingCode, SendingDate, TrackingURL string
}

// AddOrder stores an order from a complete payload ({"Order":{...}} as GET
// /orders/{id}/complete returns it), keyed by Order.id.
func (s *Server) AddOrder(storeID string, complete []byte) error {
	st := s.store(storeID)
	if st == nil {
		return fmt.Errorf("traysim: unknown store %q", storeID)
	}
	var doc map[string]any
	if err := json.Unmarshal(complete, &doc); err != nil {
		return fmt.Errorf("traysim: order payload: %w", err)
	}
	o, ok := doc["Order"].(map[string]any)
	if !ok {
		return fmt.Errorf("traysim: order payload has no Order object")
	}
	id := fmt.Sprint(o["id"])
	st.data.Lock()
	st.orders[id] = doc
	st.data.Unlock()
	return nil
}

// AddStatus adds or renames an order status.
func (s *Server) AddStatus(storeID, id, name string) {
	st := s.store(storeID)
	if st == nil {
		return
	}
	st.data.Lock()
	defer st.data.Unlock()
	for i := range st.statuses {
		if st.statuses[i].ID == id {
			st.statuses[i].Name = name
			return
		}
	}
	st.statuses = append(st.statuses, orderStatus{id, name})
}

// Order returns an order's write-back state.
func (s *Server) Order(storeID, orderID string) (OrderState, bool) {
	st := s.store(storeID)
	if st == nil {
		return OrderState{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	doc, ok := st.orders[orderID]
	if !ok {
		return OrderState{}, false
	}
	o := doc["Order"].(map[string]any)
	get := func(k string) string {
		if v, ok := o[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	out := OrderState{Status: get("status"), SendingCode: get("sending_code"),
		SendingDate: get("sending_date"), TrackingURL: get("tracking_url")}
	if os, ok := o["OrderStatus"].(map[string]any); ok {
		out.StatusID = fmt.Sprint(os["id"])
	}
	return out, true
}

func (s *Server) putOrder(w http.ResponseWriter, st *store, rt routed, body map[string]json.RawMessage) {
	var f map[string]json.RawMessage
	if rt.endpoint == EpOrderPut && (json.Unmarshal(body["Order"], &f) != nil || f == nil) {
		writeError(w, http.StatusBadRequest, "Bad Request", "missing Order object", 0)
		return
	}
	st.data.Lock()
	defer st.data.Unlock()
	doc, ok := st.orders[rt.id]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "Order not found", 0)
		return
	}
	o := doc["Order"].(map[string]any)
	setStatus := func(sid string) bool {
		for _, s := range st.statuses {
			if s.ID == sid {
				o["status"] = s.Name
				o["OrderStatus"] = map[string]any{"id": s.ID, "status": s.Name}
				return true
			}
		}
		return false
	}
	if rt.endpoint == EpOrderCancel {
		for _, s := range st.statuses {
			if strings.Contains(strings.ToUpper(s.Name), "CANCEL") {
				setStatus(s.ID)
				break
			}
		}
		o["modified"] = s.trayDateTime(s.opts.Now())
		writeJSON(w, http.StatusOK, map[string]any{"message": "Saved", "id": rt.id, "code": 200})
		return
	}
	if raw, ok := f["status_id"]; ok {
		if !setStatus(strings.Trim(string(raw), `" `)) {
			writeError(w, http.StatusBadRequest, "Bad Request", "status_id does not exist", 0)
			return
		}
	}
	for _, k := range []string{"sending_code", "sending_date", "tracking_url", "store_note", "customer_note"} {
		if v := str(f, k, "\x00"); v != "\x00" {
			o[k] = v
		}
	}
	o["modified"] = s.trayDateTime(s.opts.Now()) // Tray stamps every change
	writeJSON(w, http.StatusOK, map[string]any{"message": "Saved", "id": rt.id, "code": 200})
}

func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request, st *store) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 {
		limit = 30
	}
	limit = min(limit, 50)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	st.data.Lock()
	total := len(st.statuses)
	items := []map[string]any{}
	for i := (page - 1) * limit; i < total && i < page*limit; i++ {
		s := st.statuses[i]
		typ := "open"
		if strings.Contains(strings.ToUpper(s.Name), "CANCEL") {
			typ = "cancelled"
		}
		items = append(items, map[string]any{"OrderStatus": map[string]any{
			"id": s.ID, "status": s.Name, "default": "1", "type": typ, "show_backoffice": "1"}})
	}
	st.data.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"paging":        map[string]any{"total": total, "page": page, "offset": (page - 1) * limit, "limit": limit, "maxLimit": 50},
		"OrderStatuses": items,
	})
}

// AddProduct seeds a product.
func (s *Server) AddProduct(storeID, id string, stock int64, price decimal.Decimal) {
	if st := s.store(storeID); st != nil {
		st.data.Lock()
		st.products[id] = &Product{ID: id, Name: "Product " + id, Available: true, Stock: stock, Price: price}
		st.data.Unlock()
	}
}

// AddVariant seeds a variant of a product.
func (s *Server) AddVariant(storeID, productID, variantID string, stock int64, price decimal.Decimal) {
	if st := s.store(storeID); st != nil {
		st.data.Lock()
		st.variants[variantID] = &Variant{ID: variantID, ProductID: productID, Stock: stock, Price: price}
		st.data.Unlock()
	}
}

// Product returns a copy of a product as held now.
func (s *Server) Product(storeID, id string) (Product, bool) {
	st := s.store(storeID)
	if st == nil {
		return Product{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	p, ok := st.products[id]
	if !ok {
		return Product{}, false
	}
	return *p, true
}

// Variant returns a copy of a variant as held now.
func (s *Server) Variant(storeID, id string) (Variant, bool) {
	st := s.store(storeID)
	if st == nil {
		return Variant{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	v, ok := st.variants[id]
	if !ok {
		return Variant{}, false
	}
	return *v, true
}

// Puts returns the store's recorded writes, oldest first.
func (s *Server) Puts(storeID string) []PutRecord {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	return append([]PutRecord(nil), st.puts...)
}

// listOrders serves GET /orders as Tray does: limit (default 30, at most 50) and page,
// the modified filter ("start,end", dates aaaa-mm-dd, both days included, the store's
// São Paulo calendar), sort as field_asc|field_desc over id and modified (default
// id_asc), and the paging envelope. Each item is the order's summary: no customer,
// addresses or lines (ProductsSold holds only ids), so clients fetch /complete.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, st *store) {
	q := r.URL.Query()
	limit, page := 30, 1
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "Bad Request", "limit must be a positive number", 0)
			return
		}
		limit = min(n, 50)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "Bad Request", "page must be a positive number", 0)
			return
		}
		page = n
	}
	var from, to string
	if v := q.Get("modified"); v != "" {
		a, b, _ := strings.Cut(v, ",")
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if !isDate(a) || (b != "" && !isDate(b)) {
			writeError(w, http.StatusBadRequest, "Bad Request", "modified must be aaaa-mm-dd[,aaaa-mm-dd]", 0)
			return
		}
		from, to = a, b
	}
	field, dir := "id", "asc"
	if v := q.Get("sort"); v != "" {
		f, d, ok := cutLast(v, "_")
		if !ok || (f != "id" && f != "modified") || (d != "asc" && d != "desc") {
			writeError(w, http.StatusBadRequest, "Bad Request", "sort must be id_asc, id_desc, modified_asc or modified_desc", 0)
			return
		}
		field, dir = f, d
	}
	type row struct {
		id, modified string
		order        map[string]any
	}
	st.data.Lock()
	rows := make([]row, 0, len(st.orders))
	for id, doc := range st.orders {
		o, _ := doc["Order"].(map[string]any)
		mod := fmt.Sprint(o["modified"])
		day := mod[:min(len(mod), 10)]
		if from != "" && (day < from || (to != "" && day > to)) {
			continue
		}
		rows = append(rows, row{id: id, modified: mod, order: summary(o)})
	}
	st.data.Unlock()
	byID := func(a, b row) int {
		x, _ := strconv.Atoi(a.id)
		y, _ := strconv.Atoi(b.id)
		return cmpInt(x, y)
	}
	slices.SortFunc(rows, func(a, b row) int {
		c := 0
		if field == "modified" {
			c = strings.Compare(a.modified, b.modified)
		}
		if c == 0 {
			c = byID(a, b)
		}
		if dir == "desc" {
			c = -c
		}
		return c
	})
	total := len(rows)
	lo := min((page-1)*limit, total)
	hi := min(lo+limit, total)
	items := []map[string]any{}
	for _, rw := range rows[lo:hi] {
		items = append(items, map[string]any{"Order": rw.order})
	}
	applied := []string{}
	if from != "" {
		applied = append(applied, "modified")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"paging":           map[string]any{"total": total, "page": page, "offset": lo, "limit": limit, "maxLimit": 50},
		"sort":             []map[string]string{{field: dir}},
		"availableFilters": []string{"id", "status", "partner_id", "modified", "date"},
		"appliedFilters":   applied,
		"Orders":           items,
	})
}

// summary is an order as GET /orders lists it: scalars and OrderStatus; lines by id.
func summary(o map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range o {
		switch v.(type) {
		case map[string]any, []any:
			continue
		}
		out[k] = v
	}
	if os, ok := o["OrderStatus"]; ok {
		out["OrderStatus"] = os
	}
	ids := []map[string]any{}
	if sold, ok := o["ProductsSold"].([]any); ok {
		for i, it := range sold {
			id := strconv.Itoa(i + 1)
			if m, ok := it.(map[string]any); ok {
				if ps, ok := m["ProductsSold"].(map[string]any); ok && ps["id"] != nil {
					id = fmt.Sprint(ps["id"])
				}
			}
			ids = append(ids, map[string]any{"id": id})
		}
	}
	out["ProductsSold"] = ids
	return out
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
