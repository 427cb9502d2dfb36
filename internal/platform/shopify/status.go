package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
)

// Status names WriteOrderStatus understands (the connection's status map writes these).
const (
	StatusFulfilled = "fulfilled" // fulfilmentCreate on every open fulfilment order, with tracking
	StatusCancelled = "cancelled" // orderCancel
	StatusPaid      = "paid"      // orderMarkAsPaid
	StatusClosed    = "closed"    // orderClose (archive)
)

func statusAction(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "fulfilled", "fulfill", "shipped", "sent", "enviado":
		return StatusFulfilled, true
	case "cancelled", "canceled", "cancel", "cancelado":
		return StatusCancelled, true
	case "paid", "mark_as_paid", "pago":
		return StatusPaid, true
	case "closed", "close", "archived", "finalizado":
		return StatusClosed, true
	}
	return "", false
}

// WriteOrderStatus writes the hub's status back: fulfilled (fulfilmentCreate with the
// tracking number, URL and carrier on the order's open fulfilment orders), cancelled
// (orderCancel: reason, refund, restock and notification from the settings), paid
// (orderMarkAsPaid) or closed (orderClose). Tracking data with no status fulfils.
// Invoice data has no Shopify field: it is written as order metafields ponte.invoice_*.
func (c *Connector) WriteOrderStatus(ctx context.Context, conn domain.Connection, platformOrderID string, u domain.OrderStatusUpdate) error {
	const op = "write_order_status"
	s, err := c.settings(conn)
	if err != nil {
		return err
	}
	gid, ok := toGID("Order", platformOrderID)
	if !ok {
		return permanent(op, "invalid Shopify order id %q", platformOrderID)
	}
	action := ""
	if strings.TrimSpace(u.PlatformStatus) != "" {
		if action, ok = statusAction(u.PlatformStatus); !ok {
			return permanent(op, "status %q cannot be written to Shopify; use %s, %s, %s or %s",
				u.PlatformStatus, StatusFulfilled, StatusCancelled, StatusPaid, StatusClosed)
		}
	} else if strings.TrimSpace(u.TrackingCode) != "" || strings.TrimSpace(u.TrackingURL) != "" {
		action = StatusFulfilled
	}
	if u.InvoiceNumber != "" || u.InvoiceKey != "" || u.InvoiceURL != "" {
		if err := c.writeInvoice(ctx, conn, s, gid, u); err != nil {
			return err
		}
	}
	switch action {
	case StatusFulfilled:
		return c.fulfil(ctx, conn, s, gid, u)
	case StatusCancelled:
		return c.mutateOrder(ctx, conn, s, "CancelOrder", `mutation CancelOrder($id: ID!, $reason: OrderCancelReason!, $refund: OrderCancelRefundMethodInput!, $restock: Boolean!, $notify: Boolean, $note: String) {
  orderCancel(orderId: $id, reason: $reason, refundMethod: $refund, restock: $restock, notifyCustomer: $notify, staffNote: $note) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}`, "orderCancel", "orderCancelUserErrors", map[string]any{"id": gid, "reason": s.cancelReason,
			"refund": map[string]any{"originalPaymentMethodsRefund": s.cancelRefund}, "restock": s.cancelRestock,
			"notify": s.notify, "note": "Cancelled by the ERP through Ponte"})
	case StatusPaid:
		return c.mutateOrder(ctx, conn, s, "MarkPaid", `mutation MarkPaid($input: OrderMarkAsPaidInput!) {
  orderMarkAsPaid(input: $input) {
    order { id displayFinancialStatus }
    userErrors { field message }
  }
}`, "orderMarkAsPaid", "userErrors", map[string]any{"input": map[string]any{"id": gid}})
	case StatusClosed:
		return c.mutateOrder(ctx, conn, s, "CloseOrder", `mutation CloseOrder($input: OrderCloseInput!) {
  orderClose(input: $input) {
    order { id closed }
    userErrors { field message }
  }
}`, "orderClose", "userErrors", map[string]any{"input": map[string]any{"id": gid}})
	}
	return nil
}

// mutateOrder runs one order mutation and turns its userErrors into a permanent error.
func (c *Connector) mutateOrder(ctx context.Context, conn domain.Connection, s settings, operation, query, field, errField string, vars map[string]any) error {
	const op = "write_order_status"
	data, err := c.graphql(ctx, conn, s, gqlRequest{op: op, operation: operation, query: query, vars: vars, cost: 10})
	if data == nil {
		return err
	}
	var res map[string]map[string]json.RawMessage
	if json.Unmarshal(data, &res) != nil || res[field] == nil {
		if err != nil {
			return err
		}
		return transient(op, "%s: answer without %s", operation, field)
	}
	var ues []userError
	_ = json.Unmarshal(res[field][errField], &ues)
	if len(ues) > 0 {
		return permanent(op, "%s: %s", field, describeUserError(ues[0]))
	}
	return nil
}

const fulfillmentOrdersQuery = `query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 50) { nodes { id status } }
  }
}`

const fulfillmentCreateMutation = `mutation CreateFulfillment($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}`

// fulfil creates one fulfilment covering every open fulfilment order of the order. An
// order with nothing left to fulfil is already done (a retried write succeeds).
func (c *Connector) fulfil(ctx context.Context, conn domain.Connection, s settings, gid string, u domain.OrderStatusUpdate) error {
	const op = "write_order_status"
	data, err := c.graphql(ctx, conn, s, gqlRequest{op: op, operation: "FulfillmentOrders", query: fulfillmentOrdersQuery,
		vars: map[string]any{"id": gid}, cost: 53})
	if data == nil {
		return err
	}
	var res struct {
		Order *struct {
			FulfillmentOrders struct {
				Nodes []struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"nodes"`
			} `json:"fulfillmentOrders"`
		} `json:"order"`
	}
	if json.Unmarshal(data, &res) != nil {
		return transient(op, "FulfillmentOrders: unexpected data")
	}
	if res.Order == nil {
		return permanent(op, "order %s not found on Shopify", numericID(gid))
	}
	var open []map[string]any
	for _, fo := range res.Order.FulfillmentOrders.Nodes {
		switch strings.ToUpper(fo.Status) {
		case "OPEN", "IN_PROGRESS":
			open = append(open, map[string]any{"fulfillmentOrderId": fo.ID})
		}
	}
	if len(open) == 0 {
		return nil
	}
	in := map[string]any{"lineItemsByFulfillmentOrder": open, "notifyCustomer": s.notify}
	track := map[string]any{}
	if v := strings.TrimSpace(u.TrackingCode); v != "" {
		track["number"] = v
	}
	if v := strings.TrimSpace(u.TrackingURL); v != "" {
		track["url"] = v
	}
	if v := strings.TrimSpace(u.Carrier); v != "" {
		track["company"] = v
	}
	if len(track) > 0 {
		in["trackingInfo"] = track
	}
	return c.mutateOrder(ctx, conn, s, "CreateFulfillment", fulfillmentCreateMutation, "fulfillmentCreate", "userErrors",
		map[string]any{"fulfillment": in})
}

// writeInvoice stores invoice number, key and URL as order metafields (namespace ponte).
func (c *Connector) writeInvoice(ctx context.Context, conn domain.Connection, s settings, gid string, u domain.OrderStatusUpdate) error {
	var mf []map[string]any
	for _, kv := range [][2]string{{"invoice_number", u.InvoiceNumber}, {"invoice_key", u.InvoiceKey}, {"invoice_url", u.InvoiceURL}} {
		if v := strings.TrimSpace(kv[1]); v != "" {
			typ := "single_line_text_field"
			if kv[0] == "invoice_url" {
				typ = "url"
			}
			mf = append(mf, map[string]any{"namespace": "ponte", "key": kv[0], "type": typ, "value": v})
		}
	}
	if len(mf) == 0 {
		return nil
	}
	err := c.mutateOrder(ctx, conn, s, "SetInvoice", `mutation SetInvoice($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id }
    userErrors { field message }
  }
}`, "orderUpdate", "userErrors", map[string]any{"input": map[string]any{"id": gid, "metafields": mf}})
	if err != nil {
		return fmt.Errorf("writing invoice data: %w", err)
	}
	return nil
}
