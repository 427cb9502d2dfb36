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
//
// Nuvemshop has no order fields for invoices; invoice data is not written.
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
	var action string
	var body map[string]any
	switch status {
	case "":
		return nil
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
		return permanent(op, "order status %q cannot be written to Nuvemshop (use fulfilled, packed, closed, open or cancelled)", truncate(u.PlatformStatus, 40))
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
