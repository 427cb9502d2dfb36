package tray

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

var _ platform.OrderPoller = (*Connector)(nil)

// pollPageSize is Tray's maxLimit for lists.
const pollPageSize = 50

// maxScanPages bounds the pages one PollOrders call reads without finding anything new.
const maxScanPages = 10

// pollCursor is PollOrders' durable position. W is the newest modification taken
// (Tray's São Paulo "YYYY-MM-DD HH:MM:SS"), IDs the orders taken at exactly W, and P
// the page of GET /orders?modified=<W's day>,...&sort=modified_asc where W was seen:
// Tray filters modification by day only, so the rest of W's day is skipped here.
type pollCursor struct {
	W   string   `json:"w"`
	IDs []string `json:"ids,omitempty"`
	P   int      `json:"p"`
}

// taken says the connector already returned this order at this modification.
func (c pollCursor) taken(id, modified string) bool {
	return modified < c.W || (modified == c.W && slices.Contains(c.IDs, id))
}

type listedOrder struct {
	ID       string
	Modified string
}

// PollOrders lists orders by modification time, oldest first, and fetches each new one
// complete (the list carries no customer, addresses or lines). It is the safety net for
// lost notifications: Tray sends only ids and stops after its retries, so a missed one
// is otherwise lost. "" starts at the orders_since setting, else the connection's
// creation, so a new connection never imports the store's history.
//
// Tray's modified filter has day precision and its pages shift when an order of the
// window is modified again (it moves to the end), so the cursor keeps the page as a
// hint and steps back while the page it lands on starts with an order not yet taken.
func (c *Connector) PollOrders(ctx context.Context, conn domain.Connection, cursor string) (platform.OrderPage, error) {
	const op = "poll_orders"
	s, err := c.settings(conn)
	if err != nil {
		return platform.OrderPage{}, err
	}
	cur := pollCursor{W: s.ordersSince.In(c.sp).Format(time.DateTime), P: 1}
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &cur); err != nil || len(cur.W) != len(time.DateTime) || cur.P < 1 {
			return platform.OrderPage{}, permanent(op, "invalid order cursor %q", truncate(cursor, 80))
		}
	}
	day := cur.W[:len(time.DateOnly)]
	page := cur.P
	items, total, err := c.listOrders(ctx, conn, s, day, page)
	if err != nil {
		return platform.OrderPage{}, err
	}
	// Step back over pages that shifted under us (bounded by the page number).
	for page > 1 && (len(items) == 0 || !cur.taken(items[0].ID, items[0].Modified)) {
		page--
		if items, total, err = c.listOrders(ctx, conn, s, day, page); err != nil {
			return platform.OrderPage{}, err
		}
	}
	out := platform.OrderPage{Orders: []domain.Order{}}
	next := cur
	for scanned := 1; ; scanned++ {
		progressed, stop, err := c.takeNew(ctx, conn, items, &next, &out)
		if err != nil {
			return platform.OrderPage{}, err
		}
		more := page*pollPageSize < total
		next.P = page
		if stop || progressed || !more || scanned >= maxScanPages {
			out.More = more && !stop
			break
		}
		page++
		if items, total, err = c.listOrders(ctx, conn, s, day, page); err != nil {
			return platform.OrderPage{}, err
		}
	}
	if next.W[:len(time.DateOnly)] != day {
		next.P = 1 // a later day is a different list; its pages start over
	}
	b, err := json.Marshal(next)
	if err != nil {
		return platform.OrderPage{}, permanent(op, "encoding cursor: %v", err)
	}
	out.Next = string(b)
	return out, nil
}

// takeNew fetches the page's orders not taken yet, in order, moving cur past each.
// An order Tray cannot serve or the connector cannot read (a permanent error) is
// listed in the page's Failed and passed over: it must not stop intake of every later order. A transient
// failure stops the page; what was taken so far is kept (stop) or, when nothing was,
// the error is returned and the same cursor is polled again.
func (c *Connector) takeNew(ctx context.Context, conn domain.Connection, items []listedOrder, cur *pollCursor, out *platform.OrderPage) (progressed, stop bool, err error) {
	for _, it := range items {
		if cur.taken(it.ID, it.Modified) {
			continue
		}
		o, ferr := c.FetchOrder(ctx, conn, it.ID)
		if ferr != nil {
			var pe *platform.Error
			if !errors.As(ferr, &pe) || pe.Kind != platform.Permanent {
				if !progressed {
					return false, false, ferr
				}
				c.log.WarnContext(ctx, "tray order poll stopped early; resuming next poll", "connection", conn.ID, "order", it.ID, "error", ferr.Error())
				return true, true, nil
			}
			out.Failed = append(out.Failed, platform.FailedOrder{PlatformID: it.ID, Reason: ferr.Error()})
		} else {
			out.Orders = append(out.Orders, o)
		}
		progressed = true
		if it.Modified != cur.W {
			cur.W, cur.IDs = it.Modified, nil
		}
		cur.IDs = append(cur.IDs, it.ID)
	}
	return progressed, false, nil
}

// listOrders reads one page of GET /orders modified from day on, oldest change first.
func (c *Connector) listOrders(ctx context.Context, conn domain.Connection, s settings, day string, page int) ([]listedOrder, int, error) {
	// The range ends tomorrow (São Paulo) so an order modified while we poll is in it.
	end := c.opts.Now().In(c.sp).AddDate(0, 0, 1).Format(time.DateOnly)
	r := request{op: "poll_orders", method: http.MethodGet, path: "/orders", query: url.Values{
		"modified": {day + "," + end}, "sort": {"modified_asc"},
		"limit": {strconv.Itoa(pollPageSize)}, "page": {strconv.Itoa(page)},
	}}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return nil, 0, err
	}
	var body struct {
		Paging struct {
			Total flexString `json:"total"`
		} `json:"paging"`
		Orders json.RawMessage `json:"Orders"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		return nil, 0, transient(r.op, "GET /orders: HTTP %d with an unexpected body (%s)", resp.status, snippet(resp.body))
	}
	total, _ := strconv.Atoi(body.Paging.Total.Str())
	var out []listedOrder
	for _, o := range asList[struct {
		ID       flexString `json:"id"`
		Modified flexString `json:"modified"`
	}](body.Orders, "Order") {
		if id := o.ID.Str(); validID(id) {
			out = append(out, listedOrder{ID: id, Modified: strings.TrimSpace(o.Modified.Str())})
		}
	}
	return out, total, nil
}
