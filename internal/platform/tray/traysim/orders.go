package traysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
