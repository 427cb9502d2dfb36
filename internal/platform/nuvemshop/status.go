package nuvemshop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
)

// WriteOrderStatus moves an order through Nuvemshop's order actions:
//
//	"fulfilled" / "shipped" / "fulfill" (or no status with a tracking code):
//	    POST /orders/{id}/fulfill {shipping_tracking_number, shipping_tracking_url, notify_customer}
//	"packed" / "pack":            POST /orders/{id}/pack
//	"closed" / "close":           POST /orders/{id}/close
//	"open" / "reopen":            POST /orders/{id}/open
//	"cancelled" / "cancel":       POST /orders/{id}/cancel {reason, email, restock}
//	"invoiced" / "invoice":       the invoice alone (below); it needs a key or a URL
//
// Invoice data (any status) goes where Nuvemshop's ERP guide puts NF-e: the order's
// metafield namespace "nfe", key "list", whose value is a JSON list of
// {"key": access key, "link": URL}; an entry already there is not written twice.
// Nuvemshop has no field for the invoice number, so it is not written.
func (c *Connector) WriteOrderStatus(ctx context.Context, conn domain.Connection, platformOrderID string, u domain.OrderStatusUpdate) error {
	const op = "write_order_status"
	s, err := c.settings(conn)
	if err != nil {
		return err
	}
	if !validID(platformOrderID) {
		return permanent(op, "invalid Nuvemshop order id %q", truncate(platformOrderID, 64))
	}
	status := strings.ToLower(strings.TrimSpace(u.PlatformStatus))
	if status == "" && strings.TrimSpace(u.TrackingCode) != "" {
		status = "fulfilled"
	}
	hasInvoice := strings.TrimSpace(u.InvoiceKey) != "" || strings.TrimSpace(u.InvoiceURL) != ""
	var action string
	var body map[string]any
	switch status {
	case "":
	case "invoiced", "invoice":
		if !hasInvoice {
			return permanent(op, "order %s: invoiced without an invoice key or URL: Nuvemshop's NF-e list takes only those (the number has no field)", platformOrderID)
		}
	case "fulfilled", "fulfill", "shipped", "ship":
		action = "fulfill"
		body = map[string]any{"notify_customer": s.notifyCustomer}
		if code := strings.TrimSpace(u.TrackingCode); code != "" {
			body["shipping_tracking_number"] = code
		}
		if tu := strings.TrimSpace(u.TrackingURL); tu != "" {
			body["shipping_tracking_url"] = tu
		}
	case "packed", "pack":
		action = "pack"
	case "closed", "close":
		action = "close"
	case "open", "reopen", "opened":
		action = "open"
	case "cancelled", "canceled", "cancel":
		action = "cancel"
		body = map[string]any{"reason": s.cancelReason, "email": s.notifyCustomer, "restock": s.cancelRestock}
	default:
		return permanent(op, "order status %q cannot be written to Nuvemshop (use fulfilled, packed, closed, open, cancelled or invoiced)", truncate(u.PlatformStatus, 40))
	}
	// The invoice first: a shipment notice to the buyer then finds it on the order.
	if hasInvoice {
		if err := c.writeInvoice(ctx, conn, s, platformOrderID, u); err != nil {
			return err
		}
	}
	if action == "" {
		return nil
	}
	r := request{op: op, method: http.MethodPost, path: "/orders/" + url.PathEscape(platformOrderID) + "/" + action,
		notFound: fmt.Sprintf("order %s not found on Nuvemshop", platformOrderID)}
	if body != nil {
		if r.body, err = json.Marshal(body); err != nil {
			return permanent(op, "encoding body: %v", err)
		}
	} else {
		r.body = []byte("{}")
	}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return err
	}
	if !isObjectWithID(resp.body) {
		return garbage(r, resp)
	}
	return nil
}

// Where Nuvemshop keeps an order's NF-e (ERP guide, "Invoice Management").
const (
	nfeNamespace   = "nfe"
	nfeKey         = "list"
	nfeDescription = "Lista de NFes"
)

// nfeEntry is one invoice in the "nfe"/"list" metafield's JSON value.
type nfeEntry struct {
	Key                string `json:"key"`
	Link               string `json:"link"`
	FulfillmentOrderID string `json:"fulfillment_order_id,omitempty"`
}

type metafieldJSON struct {
	ID        flex `json:"id"`
	Namespace flex `json:"namespace"`
	Key       flex `json:"key"`
	Value     flex `json:"value"`
	OwnerID   flex `json:"owner_id"`
}

// writeInvoice adds the invoice's key and link to the order's "nfe"/"list" metafield:
// GET /metafields/orders?owner_id=&namespace=nfe&key=list, then PUT /metafields/{id}
// with the entry appended, or POST /metafields creating the list. An entry with the
// same key (or, keyless, the same link) is already written: nothing is sent.
func (c *Connector) writeInvoice(ctx context.Context, conn domain.Connection, s settings, orderID string, u domain.OrderStatusUpdate) error {
	const op = "write_invoice"
	entry := nfeEntry{Key: strings.Join(strings.Fields(u.InvoiceKey), ""), Link: strings.TrimSpace(u.InvoiceURL)}
	if entry.Key != "" && domain.Digits(entry.Key) != entry.Key {
		return permanent(op, "order %s: invoice key %q is not digits (an NF-e access key has 44)", orderID, truncate(entry.Key, 60))
	}
	list := request{op: op, method: http.MethodGet, path: "/metafields/orders",
		query: url.Values{"owner_id": {orderID}, "namespace": {nfeNamespace}, "key": {nfeKey}}}
	resp, err := c.do(ctx, conn, s, list)
	var found []metafieldJSON
	switch {
	case err != nil && lastPage404(err, resp): // none yet
	case err != nil:
		return err
	case json.Unmarshal(resp.body, &found) != nil:
		return garbage(list, resp)
	}
	var mf *metafieldJSON
	for i := range found {
		if found[i].Namespace.Str() == nfeNamespace && found[i].Key.Str() == nfeKey && found[i].OwnerID.Str() == orderID {
			mf = &found[i]
			break
		}
	}
	var entries []nfeEntry
	if mf != nil && mf.Value.Str() != "" {
		if err := json.Unmarshal([]byte(mf.Value.Str()), &entries); err != nil {
			// Someone else's value: replacing it would lose their invoices.
			return permanent(op, "order %s: metafield %s (nfe/list) holds %q, not a JSON list of invoices; not overwritten", orderID, mf.ID.Str(), truncate(mf.Value.Str(), 60))
		}
	}
	for _, e := range entries {
		if (entry.Key != "" && e.Key == entry.Key) || (entry.Key == "" && e.Link == entry.Link) {
			return nil
		}
	}
	entries = append(entries, entry)
	value, err := json.Marshal(entries)
	if err != nil {
		return permanent(op, "encoding invoice list: %v", err)
	}
	var r request
	if mf != nil {
		if !validID(mf.ID.Str()) {
			return garbage(list, resp)
		}
		r = request{op: op, method: http.MethodPut, path: "/metafields/" + url.PathEscape(mf.ID.Str())}
		r.body, err = json.Marshal(map[string]any{"value": string(value)})
	} else {
		r = request{op: op, method: http.MethodPost, path: "/metafields"}
		r.body, err = json.Marshal(map[string]any{"namespace": nfeNamespace, "key": nfeKey, "value": string(value),
			"description": nfeDescription, "owner_resource": "Order", "owner_id": jsonID(orderID)})
	}
	if err != nil {
		return permanent(op, "encoding body: %v", err)
	}
	r.notFound = fmt.Sprintf("order %s not found on Nuvemshop", orderID)
	if resp, err = c.do(ctx, conn, s, r); err != nil {
		return err
	}
	if !isObjectWithID(resp.body) {
		return garbage(r, resp)
	}
	return nil
}

// jsonID writes an all-digit id as a JSON number, as the API does; others as text.
func jsonID(id string) any {
	if id != "" && domain.Digits(id) == id && len(id) <= 18 {
		return json.Number(id)
	}
	return id
}
