package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/orders"
	"github.com/ponte-hub/ponte/internal/store"
)

// Limits of the ERP order routes.
const (
	maxAckBytes         = 64 << 10
	maxERPOrderNumber   = 64
	maxAckReason        = 1000
	defaultOrdersLimit  = 50
	maxOrdersLimit      = 200
	maxQueryValueLength = 1024
)

// OrderList is the answer of GET /v1/erp/orders.
type OrderList struct {
	Orders []domain.OrderRecord `json:"orders"`
	// NextCursor fetches the next page; "" on the last one.
	NextCursor string `json:"next_cursor"`
}

// PurchaseNeedList is the answer of GET /v1/erp/purchase-needs.
type PurchaseNeedList struct {
	Needs []domain.PurchaseNeed `json:"needs"`
}

// ordersOn answers 404 when the hub runs without the order use case.
func (a *API) ordersOn(h func(http.ResponseWriter, *http.Request, domain.Tenant)) func(http.ResponseWriter, *http.Request, domain.Tenant) {
	return func(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
		if a.Orders == nil {
			writeError(w, http.StatusNotFound, "", "orders are not enabled on this hub")
			return
		}
		h(w, r, t)
	}
}

// listOrders is GET /v1/erp/orders.
func (a *API) listOrders(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 || len(v[0]) > maxQueryValueLength {
			writeError(w, http.StatusBadRequest, k, fmt.Sprintf("give it once, at most %d bytes", maxQueryValueLength))
			return
		}
	}
	var f store.OrderFilter
	var ok bool
	switch s := domain.ERPState(q.Get("status")); s {
	case domain.ERPNone, domain.ERPPending, domain.ERPRegistered, domain.ERPRefused, domain.ERPWithdrawn:
		f.ERPState = s
	default:
		writeError(w, http.StatusBadRequest, "status", "one of pending, registered, refused, withdrawn")
		return
	}
	if f.State, ok = queryOrderState(w, r); !ok {
		return
	}
	f.ConnectionID = q.Get("connection")
	limit, ok := queryLimit(w, r, defaultOrdersLimit, maxOrdersLimit)
	if !ok {
		return
	}
	list, next, err := a.Orders.ListForERP(r.Context(), t.ID, f, q.Get("cursor"), limit)
	if err != nil {
		listFailed(w, r, err, "list orders", t.ID)
		return
	}
	out := OrderList{Orders: make([]domain.OrderRecord, 0, len(list)), NextCursor: next}
	for _, o := range list {
		out.Orders = append(out.Orders, forERP(o))
	}
	writeJSON(w, http.StatusOK, out)
}

// getOrder is GET /v1/erp/orders/{id}.
func (a *API) getOrder(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	rec, err := a.Orders.GetOrder(r.Context(), t.ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Tenant != t.ID) {
		writeError(w, http.StatusNotFound, "id", "no such order")
		return
	}
	if err != nil {
		logger(r).Error("get order failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	writeJSON(w, http.StatusOK, forERP(rec))
}

// forERP drops what is the hub's own bookkeeping: the outbox of events not yet queued.
func forERP(o domain.OrderRecord) domain.OrderRecord {
	o.Outbox = nil
	return o
}

// postAck is POST /v1/erp/orders/{id}/ack, with Idempotency-Key as on POST /v1/erp/changes.
func (a *API) postAck(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAckBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body", "ack exceeds 64 KiB")
			return
		}
		writeError(w, http.StatusBadRequest, "body", "could not read body")
		return
	}
	id := r.PathValue("id")
	idemKey := r.Header.Get("Idempotency-Key")
	if len(idemKey) > maxIdempotencyKeyLen {
		writeError(w, http.StatusBadRequest, "Idempotency-Key", "at most 255 characters")
		return
	}
	run := func() (int, []byte) { return a.applyAck(r, t, id, body) }
	if idemKey == "" {
		status, resp := run()
		writeRaw(w, status, resp)
		return
	}
	// Scoped to the order: the same key on another order is another request.
	a.idempotent(w, r, t.ID+":ack:"+id+":"+idemKey, body, run)
}

func (a *API) applyAck(r *http.Request, t domain.Tenant, id string, body []byte) (int, []byte) {
	ack, field, err := decodeAck(body)
	if err != nil {
		return http.StatusBadRequest, mustJSON(ErrorBody{Error: err.Error(), Field: field})
	}
	rec, err := a.Orders.Ack(r.Context(), t.ID, id, ack)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, mustJSON(ErrorBody{Error: "no such order", Field: "id"})
	case errors.Is(err, orders.ErrTransition):
		return http.StatusConflict, mustJSON(ErrorBody{Error: err.Error()})
	case err != nil:
		logger(r).Error("order ack failed", "tenant", t.ID, "order", id, "err", err)
		return http.StatusServiceUnavailable, mustJSON(ErrorBody{Error: "ack could not be stored; retry"})
	}
	return http.StatusOK, mustJSON(forERP(rec))
}

// decodeAck reads exactly one of the two forms and names the field at fault.
func decodeAck(body []byte) (orders.Ack, string, error) {
	var in struct {
		ERPOrderNumber *string `json:"erp_order_number"`
		Rejected       *bool   `json:"rejected"`
		Reason         *string `json:"reason"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return orders.Ack{}, strings.Trim(name, `"`), fmt.Errorf("unknown field: send erp_order_number, or rejected with reason")
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return orders.Ack{}, te.Field, fmt.Errorf("must be %s", te.Type)
		}
		return orders.Ack{}, "body", fmt.Errorf("malformed JSON: %w", err)
	}
	if dec.More() {
		return orders.Ack{}, "body", errors.New("malformed JSON: trailing data after the ack object")
	}
	number, reason := trimmed(in.ERPOrderNumber), trimmed(in.Reason)
	if in.Rejected != nil && *in.Rejected {
		switch {
		case in.ERPOrderNumber != nil:
			return orders.Ack{}, "erp_order_number", errors.New("send either erp_order_number or rejected, not both")
		case reason == "":
			return orders.Ack{}, "reason", errors.New("required when rejected: why the ERP refused the order")
		case utf8.RuneCountInString(reason) > maxAckReason || !utf8.ValidString(reason):
			return orders.Ack{}, "reason", fmt.Errorf("valid UTF-8 of at most %d characters", maxAckReason)
		}
		return orders.Ack{Rejected: true, Reason: reason}, "", nil
	}
	switch {
	case in.Reason != nil:
		return orders.Ack{}, "reason", errors.New(`only with "rejected": true`)
	case number == "":
		return orders.Ack{}, "erp_order_number", errors.New(`required: the ERP's order number, or "rejected": true with a reason`)
	case utf8.RuneCountInString(number) > maxERPOrderNumber || !utf8.ValidString(number):
		return orders.Ack{}, "erp_order_number", fmt.Errorf("valid UTF-8 of at most %d characters", maxERPOrderNumber)
	}
	return orders.Ack{ERPOrderNumber: number}, "", nil
}

func trimmed(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

// queryOrderState parses ?state= ("" for any).
func queryOrderState(w http.ResponseWriter, r *http.Request) (domain.OrderState, bool) {
	switch s := domain.OrderState(r.URL.Query().Get("state")); s {
	case "", domain.OrderAccepted, domain.OrderRejected, domain.OrderWaiting, domain.OrderCancelled:
		return s, true
	}
	writeError(w, http.StatusBadRequest, "state", "one of accepted, rejected, waiting, cancelled")
	return "", false
}

// getPurchaseNeeds is GET /v1/erp/purchase-needs.
func (a *API) getPurchaseNeeds(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	supplier := r.URL.Query().Get("supplier")
	if len(supplier) > maxQueryValueLength {
		writeError(w, http.StatusBadRequest, "supplier", fmt.Sprintf("at most %d bytes", maxQueryValueLength))
		return
	}
	needs, err := a.Orders.PurchaseNeeds(r.Context(), t.ID, supplier)
	if err != nil {
		logger(r).Error("purchase needs failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	if needs == nil {
		needs = []domain.PurchaseNeed{}
	}
	writeJSON(w, http.StatusOK, PurchaseNeedList{Needs: needs})
}
