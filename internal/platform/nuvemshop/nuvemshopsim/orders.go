package nuvemshopsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// OrderState is the part of an order that status write-backs change.
type OrderState struct {
	Status, ShippingStatus, CancelReason string
	TrackingNumber, TrackingURL          string
	NotifyCustomer, Restock              *bool
}

// AddOrder stores an order from a GET /orders/{id} payload, keyed by its id.
func (s *Server) AddOrder(storeID string, payload []byte) error {
	st := s.store(storeID)
	if st == nil {
		return fmt.Errorf("nuvemshopsim: unknown store %q", storeID)
	}
	var o map[string]any
	if err := json.Unmarshal(payload, &o); err != nil {
		return fmt.Errorf("nuvemshopsim: order payload: %w", err)
	}
	id := fmt.Sprint(o["id"])
	if f, ok := o["id"].(float64); ok {
		id = fmt.Sprintf("%.0f", f)
	}
	st.data.Lock()
	st.orders[id] = o
	st.data.Unlock()
	return nil
}

// Order returns an order's write-back state.
func (s *Server) Order(storeID, orderID string) (OrderState, bool) {
	st := s.store(storeID)
	if st == nil {
		return OrderState{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	o, ok := st.orders[orderID]
	if !ok {
		return OrderState{}, false
	}
	str := func(k string) string { v, _ := o[k].(string); return v }
	out := OrderState{Status: str("status"), ShippingStatus: str("shipping_status"), CancelReason: str("cancel_reason"),
		TrackingNumber: str("shipping_tracking_number"), TrackingURL: str("shipping_tracking_url")}
	if b, ok := o["_notify_customer"].(bool); ok {
		out.NotifyCustomer = &b
	}
	if b, ok := o["_restock"].(bool); ok {
		out.Restock = &b
	}
	return out, true
}

func (s *Server) orderAction(w http.ResponseWriter, st *store, rt routed, raw []byte, now time.Time) {
	var body map[string]any
	if len(raw) > 0 {
		if json.Unmarshal(raw, &body) != nil {
			writeError(w, http.StatusBadRequest, "Bad Request", "Invalid input format")
			return
		}
	}
	st.data.Lock()
	o, ok := st.orders[rt.id]
	if !ok {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Order not found")
		return
	}
	stamp := now.UTC().Format("2006-01-02T15:04:05-0700")
	bad := ""
	switch rt.action {
	case "close":
		o["status"], o["closed_at"] = "closed", stamp
	case "open":
		o["status"] = "open"
	case "pack":
		o["shipping_status"] = "packed"
	case "fulfill":
		o["shipping_status"], o["shipped_at"] = "shipped", stamp
		for _, k := range []string{"shipping_tracking_number", "shipping_tracking_url"} {
			if v, ok := body[k].(string); ok {
				o[k] = v
			}
		}
		if b, ok := body["notify_customer"].(bool); ok {
			o["_notify_customer"] = b
		}
	case "cancel":
		reason, _ := body["reason"].(string)
		switch reason {
		case "", "customer", "inventory", "fraud", "other":
		default:
			bad = "The selected reason is invalid."
		}
		if bad == "" {
			o["status"], o["cancelled_at"], o["cancel_reason"] = "cancelled", stamp, reason
			if b, ok := body["email"].(bool); ok {
				o["_notify_customer"] = b
			}
			if b, ok := body["restock"].(bool); ok {
				o["_restock"] = b
			}
		}
	default:
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Resource not found")
		return
	}
	if bad != "" {
		st.data.Unlock()
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": 422, "message": "Unprocessable Entity", "description": bad})
		return
	}
	o["updated_at"] = stamp
	out := map[string]any{}
	for k, v := range o {
		if k[0] != '_' {
			out[k] = v
		}
	}
	b, _ := json.Marshal(out)
	st.data.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
