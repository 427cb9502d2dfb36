package shopify

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

var _ platform.OrderPoller = (*Connector)(nil)

// Order polling defaults. A polled order comes with its first pollLines line items (the
// rest are read with GetOrder), which keeps a page of DefaultPollPageSize orders under
// Shopify's 1,000-point single-query limit.
const (
	DefaultPollPageSize = 10
	MaxPollPageSize     = 11
	pollLines           = 10
	// pollOrderCost estimates one polled order: its own objects (about 20 points) and a
	// lineItems connection of pollLines at about six points a line.
	pollOrderCost = 22 + 2 + pollLines*6
)

// pollCost is the requested-cost estimate of PollOrders for a page of first orders.
func pollCost(first int) float64 { return float64(2 + first*pollOrderCost) }

const pollOrdersQuery = `query PollOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      ...OrderFields
      lineItems(first: 10) {
        pageInfo { hasNextPage endCursor }
        nodes { ...LineFields }
      }
    }
  }
}` + orderFragments

// pollCursor is the state PollOrders hands the hub, opaque to it (base64 of this JSON).
// Since is the newest update time seen; Seen the orders already returned at exactly
// that time (Shopify's times have whole seconds, so several orders can share one).
// During a pass over more than a page, After is Shopify's page cursor and QuerySince
// the bound of the query it belongs to (a cursor is only valid for the same query).
type pollCursor struct {
	Since      time.Time `json:"since"`
	Seen       []string  `json:"seen,omitempty"`
	QuerySince time.Time `json:"query_since,omitzero"`
	After      string    `json:"after,omitempty"`
}

func (pc pollCursor) encode() string {
	b, _ := json.Marshal(pc) // a struct of times, strings and a slice: never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePollCursor(s string) (pollCursor, error) {
	var pc pollCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &pc) != nil || pc.Since.IsZero() || (pc.After != "" && pc.QuerySince.IsZero()) {
		return pollCursor{}, fmt.Errorf("invalid order cursor %q", truncate(s, 60))
	}
	return pc, nil
}

// PollOrders is the safety net for lost webhooks: it lists the orders updated since the
// cursor with GraphQL orders(query: "updated_at:>='…'", sortKey: UPDATED_AT), oldest
// first, and returns them normalised. "" starts at the orders_since setting, else at the
// connection's creation (a new connection does not import the shop's history). Each
// finished pass restarts at the newest update time seen, inclusive, skipping the orders
// already returned at that very second, so an order updated in the same second as the
// last one seen is not missed and an unchanged order is not returned again. An order
// that does not normalise is passed over and listed in the page's Failed.
func (c *Connector) PollOrders(ctx context.Context, conn domain.Connection, cursor string) (platform.OrderPage, error) {
	const op = "poll_orders"
	s, err := c.settings(conn)
	if err != nil {
		return platform.OrderPage{}, err
	}
	var pc pollCursor
	if cursor == "" {
		pc.Since = s.ordersSince
		if pc.Since.IsZero() {
			pc.Since = conn.CreatedAt.UTC()
		}
		if pc.Since.IsZero() {
			return platform.OrderPage{}, permanent("config", "connection %s has neither an orders_since setting nor a creation time to poll orders from", conn.ID)
		}
		pc.Since = pc.Since.Truncate(time.Second)
	} else if pc, err = decodePollCursor(cursor); err != nil {
		return platform.OrderPage{}, permanent(op, "%v", err)
	}
	bound := pc.Since
	if pc.After != "" {
		bound = pc.QuerySince
	}
	vars := map[string]any{"first": s.pollPageSize, "after": nil,
		"query": "updated_at:>='" + bound.UTC().Format(time.RFC3339) + "'"}
	if pc.After != "" {
		vars["after"] = pc.After
	}
	data, err := c.graphql(ctx, conn, s, gqlRequest{op: op, operation: "PollOrders", query: pollOrdersQuery, vars: vars, cost: pollCost(s.pollPageSize)})
	if data == nil {
		return platform.OrderPage{}, err
	}
	var env struct {
		Orders *struct {
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
			Nodes []gqlOrderJSON `json:"nodes"`
		} `json:"orders"`
	}
	if err := json.Unmarshal(data, &env); err != nil || env.Orders == nil {
		return platform.OrderPage{}, transient(op, "PollOrders: unexpected data (%s)", snippet(data))
	}
	page := platform.OrderPage{Orders: []domain.Order{}}
	for i := range env.Orders.Nodes {
		n := &env.Orders.Nodes[i]
		raw := gqlRaw(n)
		at, terr := utcTime(cmp.Or(raw.updated, raw.created))
		if terr != nil {
			c.log.Warn("shopify poll: order without a valid updatedAt skipped", "connection", conn.ID, "order", raw.id)
			continue
		}
		if at.Before(pc.Since) || (at.Equal(pc.Since) && slices.Contains(pc.Seen, raw.id)) {
			continue
		}
		switch {
		case at.After(pc.Since):
			pc.Since, pc.Seen = at, []string{raw.id}
		default:
			pc.Seen = append(pc.Seen, raw.id)
		}
		if n.LineItems.PageInfo.HasNextPage {
			gid := "gid://shopify/Order/" + raw.id
			if err := c.moreLines(ctx, conn, s, op, gid, n.LineItems.PageInfo.EndCursor, &raw); err != nil {
				return platform.OrderPage{}, err
			}
		}
		o, nerr := normalise(raw, conn, s.currency)
		if nerr != nil {
			page.Failed = append(page.Failed, platform.FailedOrder{PlatformID: raw.id, Reason: nerr.Error()})
			continue
		}
		page.Orders = append(page.Orders, o)
	}
	if env.Orders.PageInfo.HasNextPage && env.Orders.PageInfo.EndCursor != "" {
		pc.QuerySince, pc.After, page.More = bound, env.Orders.PageInfo.EndCursor, true
	} else {
		pc.QuerySince, pc.After = time.Time{}, ""
	}
	page.Next = pc.encode()
	return page, nil
}
