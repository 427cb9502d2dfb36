package tray

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
)

// WriteOrderStatus writes an invoice, status and tracking back. An invoice (number or
// NF-e key) goes first, through POST /orders/{id}/invoices, unless the order already
// has it. Status and tracking go with PUT /orders/{id}: status names are resolved to
// ids through GET /orders/statuses (cached); a cancelling status goes through PUT
// /orders/cancel/{id}, Tray's own cancel, which also handles stock.
func (c *Connector) WriteOrderStatus(ctx context.Context, conn domain.Connection, platformOrderID string, u domain.OrderStatusUpdate) error {
	const op = "write_order_status"
	s, err := c.settings(conn)
	if err != nil {
		return err
	}
	if !validID(platformOrderID) {
		return permanent(op, "invalid Tray order id %q", platformOrderID)
	}
	id := url.PathEscape(platformOrderID)
	notFound := fmt.Sprintf("order %s not found on Tray", platformOrderID)
	if strings.TrimSpace(u.InvoiceNumber) != "" || strings.TrimSpace(u.InvoiceKey) != "" {
		if err := c.writeInvoice(ctx, conn, s, platformOrderID, u); err != nil {
			return err
		}
	}
	fields := map[string]any{}
	if status := strings.TrimSpace(u.PlatformStatus); status != "" {
		statusID, name, err := c.resolveStatus(ctx, conn, s, status)
		if err != nil {
			return err
		}
		if isCancel(name) {
			r := request{op: op, method: http.MethodPut, path: "/orders/cancel/" + id, notFound: notFound}
			resp, err := c.do(ctx, conn, s, r)
			if err != nil {
				return err
			}
			return saved(r, resp)
		}
		fields["status_id"] = statusID
	}
	if code := strings.TrimSpace(u.TrackingCode); code != "" {
		fields["sending_code"] = code
		if !u.At.IsZero() {
			fields["sending_date"] = u.At.In(c.sp).Format(time.DateOnly)
		}
	}
	if tu := strings.TrimSpace(u.TrackingURL); tu != "" {
		fields["tracking_url"] = tu
	}
	if len(fields) == 0 {
		return nil
	}
	body, err := json.Marshal(map[string]any{"Order": fields})
	if err != nil {
		return permanent(op, "encoding body: %v", err)
	}
	r := request{op: op, method: http.MethodPut, path: "/orders/" + id, body: body, notFound: notFound}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return err
	}
	return saved(r, resp)
}

func isCancel(name string) bool { return strings.Contains(strings.ToUpper(name), "CANCEL") }

// resolveStatus returns the status id and, when known, its name. Numbers are taken as
// ids; names are looked up, refreshing the cache once when missing.
func (c *Connector) resolveStatus(ctx context.Context, conn domain.Connection, s settings, status string) (id, name string, err error) {
	st := c.state(conn, s)
	if _, convErr := strconv.ParseUint(status, 10, 64); convErr == nil {
		st.statusMu.Lock()
		defer st.statusMu.Unlock()
		for n, sid := range st.statuses {
			if sid == status {
				return status, n, nil
			}
		}
		return status, "", nil
	}
	key := strings.ToUpper(status)
	st.statusMu.Lock()
	defer st.statusMu.Unlock()
	fresh := st.statuses != nil && c.opts.Now().Sub(st.statusAt) < c.opts.StatusCacheTTL
	if !fresh {
		if err := c.loadStatuses(ctx, conn, s, st); err != nil {
			return "", "", err
		}
	}
	if sid, ok := st.statuses[key]; ok {
		return sid, key, nil
	}
	if fresh { // the merchant may have created it since we cached
		if err := c.loadStatuses(ctx, conn, s, st); err != nil {
			return "", "", err
		}
		if sid, ok := st.statuses[key]; ok {
			return sid, key, nil
		}
	}
	return "", "", permanent("write_order_status", "order status %q does not exist on the Tray store", status)
}

// loadStatuses pages through GET /orders/statuses. Caller holds statusMu.
func (c *Connector) loadStatuses(ctx context.Context, conn domain.Connection, s settings, st *connState) error {
	const limit = 50
	found := map[string]string{}
	for page := 1; page <= 20; page++ {
		r := request{op: "write_order_status", method: http.MethodGet, path: "/orders/statuses",
			query: url.Values{"limit": {strconv.Itoa(limit)}, "page": {strconv.Itoa(page)}}}
		resp, err := c.do(ctx, conn, s, r)
		if err != nil {
			return err
		}
		var body struct {
			Paging struct {
				Total flexString `json:"total"`
			} `json:"paging"`
			OrderStatuses json.RawMessage `json:"OrderStatuses"`
		}
		if err := json.Unmarshal(resp.body, &body); err != nil {
			return transient(r.op, "GET /orders/statuses: unexpected body (%s)", snippet(resp.body))
		}
		items := asList[struct {
			ID     flexString `json:"id"`
			Status flexString `json:"status"`
		}](body.OrderStatuses, "OrderStatus")
		for _, it := range items {
			if n := strings.ToUpper(it.Status.Str()); n != "" && it.ID.Str() != "" {
				found[n] = it.ID.Str()
			}
		}
		total, _ := strconv.Atoi(body.Paging.Total.Str())
		if len(items) < limit || page*limit >= total {
			break
		}
	}
	st.statuses, st.statusAt = found, c.opts.Now()
	return nil
}
