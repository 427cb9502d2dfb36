package woocommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
)

// Order meta keys the write-back sets (WooCommerce core has no tracking or invoice
// fields; plugins and merchants read these from the order's custom fields).
const (
	MetaTrackingCode  = "ponte_tracking_code"
	MetaTrackingURL   = "ponte_tracking_url"
	MetaCarrier       = "ponte_carrier"
	MetaInvoiceNumber = "ponte_invoice_number"
	MetaInvoiceKey    = "ponte_invoice_key"
	MetaInvoiceURL    = "ponte_invoice_url"
)

// WriteOrderStatus writes the status, tracking and invoice data with one PUT orders/{id}
// (status plus meta_data), then, when a tracking code is given and tracking_note is not
// "none", adds an order note with it (customer notes are e-mailed to the buyer).
func (c *Connector) WriteOrderStatus(ctx context.Context, conn domain.Connection, platformOrderID string, u domain.OrderStatusUpdate) error {
	const op = "write_order_status"
	s, err := c.settings(conn)
	if err != nil {
		return err
	}
	id, ok := parseID(platformOrderID)
	if !ok {
		return permanent(op, "invalid WooCommerce order id %q", truncate(platformOrderID, 40))
	}
	path := "/orders/" + strconv.FormatInt(id, 10)
	notFound := fmt.Sprintf("order %d not found on WooCommerce", id)
	fields := map[string]any{}
	if status := strings.ToLower(strings.TrimSpace(u.PlatformStatus)); status != "" {
		status = strings.TrimPrefix(status, "wc-")
		if !validStatus(status) {
			return permanent(op, "order status %q is not a WooCommerce status slug", truncate(u.PlatformStatus, 40))
		}
		fields["status"] = status
	}
	var meta []map[string]string
	for _, kv := range [][2]string{
		{MetaTrackingCode, u.TrackingCode}, {MetaTrackingURL, u.TrackingURL}, {MetaCarrier, u.Carrier},
		{MetaInvoiceNumber, u.InvoiceNumber}, {MetaInvoiceKey, u.InvoiceKey}, {MetaInvoiceURL, u.InvoiceURL},
	} {
		if v := strings.TrimSpace(kv[1]); v != "" {
			meta = append(meta, map[string]string{"key": kv[0], "value": v})
		}
	}
	if len(meta) > 0 {
		fields["meta_data"] = meta
	}
	if len(fields) == 0 {
		return nil
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return permanent(op, "encoding body: %v", err)
	}
	r := request{op: op, method: http.MethodPut, path: path, body: body, notFound: notFound}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return err
	}
	if err := isOrder(r, resp, id); err != nil {
		return err
	}
	code := strings.TrimSpace(u.TrackingCode)
	if code == "" || s.trackNote == "none" {
		return nil
	}
	note := "Tracking code: " + code
	if carrier := strings.TrimSpace(u.Carrier); carrier != "" {
		note += " (" + carrier + ")"
	}
	if tu := strings.TrimSpace(u.TrackingURL); tu != "" {
		note += " " + tu
	}
	body, err = json.Marshal(map[string]any{"note": note, "customer_note": s.trackNote == "customer"})
	if err != nil {
		return permanent(op, "encoding note: %v", err)
	}
	r = request{op: op, method: http.MethodPost, path: path + "/notes", body: body, notFound: notFound}
	resp, err = c.do(ctx, conn, s, r)
	if err != nil {
		return err
	}
	var n struct {
		ID json.Number `json:"id"`
	}
	if json.Unmarshal(resp.body, &n) != nil || n.ID == "" {
		return transient(op, "POST %s: HTTP %d with an unexpected body (%s)", r.path, resp.status, snippet(resp.body))
	}
	return nil
}

// isOrder checks a write answer is the order.
func isOrder(r request, resp response, id int64) error {
	var o struct {
		ID json.Number `json:"id"`
	}
	if json.Unmarshal(resp.body, &o) != nil || o.ID.String() != strconv.FormatInt(id, 10) {
		return transient(r.op, "%s %s: HTTP %d with an unexpected body (%s)", r.method, r.path, resp.status, snippet(resp.body))
	}
	return nil
}

// validStatus accepts status slugs: core ones and custom ones registered by plugins.
func validStatus(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
