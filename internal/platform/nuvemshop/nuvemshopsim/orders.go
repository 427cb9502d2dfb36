package nuvemshopsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// OrderState is the part of an order that status write-backs change.
type OrderState struct {
	Status, ShippingStatus, CancelReason string
	TrackingNumber, TrackingURL          string
	NotifyCustomer, Restock              *bool
	// NFe is the order's invoice list (metafield nfe/list) as written.
	NFe []NFe
}

// NFe is one entry of an order's nfe/list metafield.
type NFe struct {
	Key                string `json:"key"`
	Link               string `json:"link"`
	FulfillmentOrderID string `json:"fulfillment_order_id,omitempty"`
}

// AddOrder stores an order from a GET /orders/{id} payload, keyed by its id. The
// payload is served byte for byte (GET /orders/{id}, and as an element of GET /orders)
// until the order changes, so published samples reach the connector exactly as given.
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
	if id == "" || id == "<nil>" {
		return fmt.Errorf("nuvemshopsim: order payload has no id")
	}
	st.data.Lock()
	st.orders[id] = o
	st.raws[id] = bytes.TrimSpace(append([]byte(nil), payload...))
	st.data.Unlock()
	return nil
}

// orderBody is an order's GET body: the verbatim payload while unchanged, else the
// stored fields (the simulator's own "_" keys left out). Caller holds data.
func (st *store) orderBody(id string, o map[string]any) []byte {
	if raw := st.raws[id]; raw != nil {
		return raw
	}
	out := make(map[string]any, len(o))
	for k, v := range o {
		if !strings.HasPrefix(k, "_") {
			out[k] = v
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// UpdateOrder sets fields of an order (e.g. {"status":"cancelled","payment_status":
// "voided"}) as the store's admin would, stamps updated_at with the simulator's clock
// and returns the delivery Nuvemshop posts for it: the thin, signed
// {"store_id","event":"order/updated","id"}, identical for every change of the order.
func (s *Server) UpdateOrder(storeID, id string, fields map[string]any) (platformsim.Delivery, error) {
	st := s.store(storeID)
	if st == nil {
		return platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: unknown store %q", storeID)
	}
	b, err := json.Marshal(fields) // round-trip: stored values are what a payload gives
	if err != nil {
		return platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: order %s fields: %w", id, err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		return platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: order %s fields: %w", id, err)
	}
	st.data.Lock()
	o, ok := st.orders[id]
	if ok {
		for k, v := range f {
			o[k] = v
		}
		o["updated_at"] = s.opts.Now().UTC().Format(apiStamp)
		delete(st.raws, id)
	}
	st.data.Unlock()
	if !ok {
		return platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: no order %s in store %s", id, storeID)
	}
	return s.Notify(storeID, "order/updated", id)
}

// Notify returns the webhook delivery Nuvemshop posts for event on resource id:
// {"store_id","event","id"} signed with X-Linkedstore-HMAC-SHA256 (hex HMAC-SHA256 of
// the body, keyed with the store's app secret).
func (s *Server) Notify(storeID, event, id string) (platformsim.Delivery, error) {
	st := s.store(storeID)
	if st == nil {
		return platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: unknown store %q", storeID)
	}
	body, err := json.Marshal(map[string]any{"store_id": jsonID(storeID), "event": event, "id": jsonID(id)})
	if err != nil {
		return platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: delivery for %s %s: %w", event, id, err)
	}
	mac := hmac.New(sha256.New, []byte(st.cfg.AppSecret))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Linkedstore-Hmac-Sha256", hex.EncodeToString(mac.Sum(nil)))
	return platformsim.Delivery{Header: h, Query: url.Values{}, Body: body}, nil
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
	if m := st.metafield("Order", orderID, "nfe", "list"); m != nil {
		_ = json.Unmarshal([]byte(m.Value), &out.NFe) // recorded as written; a bad value reads as none
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
	delete(st.raws, rt.id)
	b := st.orderBody(rt.id, o)
	st.data.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
