package merchantpro

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
)

// WriteOrderStatus writes status, tracking (AWB) and invoice data back with
// PATCH /orders/{id}. The status is passed as given: the connection's status map holds
// the shop's own status codes.
func (c *Connector) WriteOrderStatus(ctx context.Context, conn domain.Connection, platformOrderID string, u domain.OrderStatusUpdate) error {
	const op = "write_order_status"
	s, err := c.settings(conn)
	if err != nil {
		return err
	}
	if !validID(platformOrderID) {
		return permanent(op, "invalid MerchantPro order id %q", platformOrderID)
	}
	fields := map[string]string{}
	for k, v := range map[string]string{
		"status": u.PlatformStatus, "tracking_number": u.TrackingCode, "tracking_url": u.TrackingURL,
		"carrier": u.Carrier, "invoice_number": u.InvoiceNumber, "invoice_url": u.InvoiceURL,
	} {
		if v = strings.TrimSpace(v); v != "" {
			fields[k] = v
		}
	}
	if len(fields) == 0 {
		return nil
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return permanent(op, "encoding body: %v", err)
	}
	r := request{op: op, method: http.MethodPatch, path: "/orders/" + platformOrderID, body: body,
		notFound: fmt.Sprintf("order %s not found on MerchantPro", platformOrderID)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return err
	}
	if _, ok := unwrap(resp.body); !ok && len(strings.TrimSpace(string(resp.body))) > 0 {
		return transient(op, "PATCH %s: HTTP %d with a body that is not a JSON object (%s)", r.path, resp.status, snippet(resp.body, creds{}))
	}
	return nil
}
