package nuvemshop

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// queryTime is how the poll writes times into GET /orders filters (ISO 8601 with an
// explicit offset, as the documentation's examples do).
const queryTime = "2006-01-02T15:04:05-07:00"

// pollCursor is where a poll stands: the window [Since, Until] of updated_at being
// listed, which payment_status filter and page of it comes next, and the X-Total-Count
// the filter had when its first page was read. Until is zero between windows.
type pollCursor struct {
	Since, Until time.Time
	Filter, Page int
	Total        int // -1: not known yet
}

// String encodes the cursor: "w1|since|until|filter|page|total".
func (c pollCursor) String() string {
	until, total := "", ""
	if !c.Until.IsZero() {
		until = c.Until.Format(time.RFC3339)
	}
	if c.Total >= 0 {
		total = strconv.Itoa(c.Total)
	}
	return strings.Join([]string{"w1", c.Since.Format(time.RFC3339), until,
		strconv.Itoa(c.Filter), strconv.Itoa(c.Page), total}, "|")
}

func parsePollCursor(s string) (pollCursor, bool) {
	f := strings.Split(s, "|")
	if len(f) != 6 || f[0] != "w1" {
		return pollCursor{}, false
	}
	c := pollCursor{Total: -1}
	var err error
	if c.Since, err = time.Parse(time.RFC3339, f[1]); err != nil {
		return pollCursor{}, false
	}
	if f[2] != "" {
		if c.Until, err = time.Parse(time.RFC3339, f[2]); err != nil {
			return pollCursor{}, false
		}
	}
	if c.Filter, err = strconv.Atoi(f[3]); err != nil || c.Filter < 0 {
		return pollCursor{}, false
	}
	if c.Page, err = strconv.Atoi(f[4]); err != nil || c.Page < 1 {
		return pollCursor{}, false
	}
	if f[5] != "" {
		if c.Total, err = strconv.Atoi(f[5]); err != nil || c.Total < 0 {
			return pollCursor{}, false
		}
	}
	c.Since, c.Until = c.Since.UTC(), c.Until.UTC()
	return c, true
}

// PollOrders lists orders updated in a window of time with GET /orders?updated_at_min=
// &updated_at_max=&payment_status=&page=&per_page=, a safety net for lost webhooks.
// Nuvemshop documents no sort order for the list, so the poll does not rely on one:
// each window [since, now − order_poll_lag_seconds] is read whole, once per
// payment_status filter (order_poll_payment_statuses: without one the list holds only
// authorized, pending and paid orders), and the next window starts one second before
// it ended (the hub de-duplicates repeats on the order's updated_at). If an order in
// the window changes while its pages are read, X-Total-Count drops and pages would
// shift, so that filter is read again from page 1. A window holding more than the
// list can page through (10000) is halved. The first window starts at orders_since,
// else at the connection's creation, never at the store's beginning. Each page's
// orders come oldest first.
func (c *Connector) PollOrders(ctx context.Context, conn domain.Connection, cursor string) (platform.OrderPage, error) {
	const op = "poll_orders"
	s, err := c.settings(conn)
	if err != nil {
		return platform.OrderPage{}, err
	}
	now := c.opts.Now().UTC().Truncate(time.Second)
	cur := pollCursor{Since: cmp.Or(s.ordersSince, conn.CreatedAt.UTC()), Page: 1, Total: -1}
	if cur.Since.IsZero() {
		cur.Since = now // a connection without a creation time starts now, not at the beginning
	}
	if cursor != "" {
		var ok bool
		if cur, ok = parsePollCursor(cursor); !ok {
			return platform.OrderPage{}, permanent(op, "invalid order cursor %q", truncate(cursor, 80))
		}
	}
	if cur.Filter >= len(s.pollPayments) { // the filter list setting shrank
		cur.Filter, cur.Page, cur.Total = 0, 1, -1
	}
	if cur.Until.IsZero() {
		cur.Until = now.Add(-s.pollLag)
		// A window must reach past the previous one's end (one second after since).
		if !cur.Until.After(cur.Since.Add(time.Second)) {
			// Nothing can have settled since the last window: no request.
			return platform.OrderPage{Next: pollCursor{Since: cur.Since, Page: 1, Total: -1}.String()}, nil
		}
	}
	filter := s.pollPayments[cur.Filter]
	q := map[string][]string{
		"updated_at_min": {cur.Since.Format(queryTime)}, "updated_at_max": {cur.Until.Format(queryTime)},
		"page": {strconv.Itoa(cur.Page)}, "per_page": {strconv.Itoa(s.orderPageSize)},
		"payment_status": {filter},
	}
	r := request{op: op, method: http.MethodGet, path: "/orders", query: q}
	resp, err := c.do(ctx, conn, s, r)
	var raws []json.RawMessage
	lastPage := false // past the last page: Nuvemshop answers 404 "Last page is N"
	switch {
	case err != nil && lastPage404(err, resp):
		lastPage = true
	case err != nil:
		return platform.OrderPage{}, err
	default:
		if json.Unmarshal(resp.body, &raws) != nil {
			return platform.OrderPage{}, garbage(r, resp)
		}
	}
	total, ok := headerInt(resp.header, "X-Total-Count")
	if !ok || lastPage || total < 0 {
		total = -1
	}
	out := platform.OrderPage{}
	// Too many to page through: halve the window and read the first half first.
	if cur.Page == 1 && total > maxListResults && cur.Until.Sub(cur.Since) > time.Second {
		half := cur.Since.Add(cur.Until.Sub(cur.Since) / 2).Truncate(time.Second)
		if half.After(cur.Since) {
			out.Next, out.More = pollCursor{Since: cur.Since, Until: half, Filter: cur.Filter, Page: 1, Total: -1}.String(), true
			return out, nil
		}
	}
	for i, raw := range raws {
		o, err := normaliseOrder(raw, conn, s.currency)
		if err != nil {
			// One broken order must not hide the others: name it and go on.
			out.Failed = append(out.Failed, platform.FailedOrder{PlatformID: rawID(raw), Reason: fmt.Sprintf("orders[%d]: %v", i, err)})
			continue
		}
		out.Orders = append(out.Orders, o)
	}
	slices.SortStableFunc(out.Orders, func(a, b domain.Order) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.PlatformID, b.PlatformID))
	})
	next := cur
	shrank := cur.Page > 1 && cur.Total >= 0 &&
		((total >= 0 && total != cur.Total) || (lastPage && (cur.Page-1)*s.orderPageSize < cur.Total))
	more := !lastPage && len(raws) >= s.orderPageSize
	if total >= 0 {
		more = cur.Page*s.orderPageSize < total
	}
	switch {
	case shrank:
		// The window lost orders to later updates while being read: pages shifted, so
		// read this filter again from the start (the moved orders come in the next window).
		next.Page, next.Total = 1, -1
		out.More = true
	case more:
		next.Page++
		if cur.Page == 1 {
			next.Total = total
		}
		out.More = true
	case cur.Filter+1 < len(s.pollPayments):
		next.Filter, next.Page, next.Total = cur.Filter+1, 1, -1
		out.More = true
	default:
		// Window done; the next one overlaps it by a second (the filters' bounds may be
		// exclusive, and times are whole seconds).
		next = pollCursor{Since: cur.Until.Add(-time.Second), Page: 1, Total: -1}
	}
	out.Next = next.String()
	return out, nil
}

// lastPage404 tells Nuvemshop's answer to a page past the last (404 "Last page is N")
// from other 404s (a wrong store id).
func lastPage404(err error, resp response) bool {
	return platform.AsError(err).StatusCode == http.StatusNotFound && strings.Contains(string(resp.body), "Last page is")
}

// rawID is an order's id ("?" when it has none: the hub's fetch of it then names that).
func rawID(raw json.RawMessage) string {
	var v struct {
		ID flex `json:"id"`
	}
	if asObject(raw, &v) && v.ID.Str() != "" {
		return truncate(v.ID.Str(), 24)
	}
	return "?"
}
