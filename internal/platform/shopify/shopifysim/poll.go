package shopifysim

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxPageSize is Shopify's cap on a connection's first argument.
const MaxPageSize = 250

// ordersFilter is the one search filter the simulator interprets: Shopify's search
// syntax for "updated at or after", with or without quotes around the time.
var ordersFilter = regexp.MustCompile(`^updated_at:>=(?:'([^']+)'|"([^"]+)"|(\S+))$`)

// pollOrders serves orders(first:, after:, query: "updated_at:>='…'", sortKey:
// UPDATED_AT): orders updated at or after the time, oldest first (ties by id), with
// Relay paging and each order's first 10 line items. Like Shopify it refuses a first
// beyond 250 and charges by what it returns.
func (st *store) pollOrders(b gqlBody) (any, float64, []map[string]any, []change) {
	if !strings.Contains(b.Query, "sortKey: UPDATED_AT") || !strings.Contains(b.Query, "orders(") {
		return nil, 0, gqlErr("PollOrders must call orders(..., sortKey: UPDATED_AT)", "BAD_REQUEST"), nil
	}
	var first int
	if json.Unmarshal(b.Variables["first"], &first) != nil || first < 1 || first > MaxPageSize {
		return nil, 0, gqlErr("The first argument must be between 1 and 250", "BAD_REQUEST"), nil
	}
	var query, after string
	_ = json.Unmarshal(b.Variables["query"], &query)
	_ = json.Unmarshal(b.Variables["after"], &after)
	m := ordersFilter.FindStringSubmatch(strings.TrimSpace(query))
	if m == nil {
		return nil, 0, gqlErr("the simulator interprets only the query updated_at:>='<RFC 3339 time>'", "BAD_REQUEST"), nil
	}
	since, err := time.Parse(time.RFC3339, m[1]+m[2]+m[3])
	if err != nil {
		return nil, 0, gqlErr("Invalid search field value for updated_at", "BAD_REQUEST"), nil
	}
	var afterAt time.Time
	var afterID int64
	if after != "" {
		var ok bool
		if afterAt, afterID, ok = decodeOrderCursor(after); !ok {
			return nil, 0, gqlErr("Invalid cursor for current pagination sort.", "BAD_REQUEST"), nil
		}
	}
	st.data.Lock()
	defer st.data.Unlock()
	type entry struct {
		at  time.Time
		id  int64
		gid string
	}
	var all []entry
	for gid, o := range st.orders {
		at := orderTime(o)
		if at.Before(since) {
			continue
		}
		all = append(all, entry{at, gidNum(gid), gid})
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].at.Equal(all[j].at) {
			return all[i].at.Before(all[j].at)
		}
		return all[i].id < all[j].id
	})
	start := 0
	if after != "" {
		start = sort.Search(len(all), func(i int) bool {
			return all[i].at.After(afterAt) || (all[i].at.Equal(afterAt) && all[i].id > afterID)
		})
	}
	end := min(start+first, len(all))
	nodes := make([]any, 0, end-start)
	cost := 2.0
	for _, e := range all[start:end] {
		o := pageLinesN(st.orders[e.gid], nil, 10)
		nodes = append(nodes, o)
		li, _ := o["lineItems"].(map[string]any)
		n, _ := li["nodes"].([]any)
		cost += float64(24 + 6*len(n))
	}
	info := map[string]any{"hasNextPage": end < len(all), "endCursor": nil}
	if end > start {
		last := all[end-1]
		info["endCursor"] = encodeOrderCursor(last.at, last.id)
	}
	return map[string]any{"orders": map[string]any{"pageInfo": info, "nodes": nodes}}, cost, nil, nil
}

// orderTime is an order's updatedAt (createdAt when it has none); the zero time when
// neither parses.
func orderTime(o map[string]any) time.Time {
	for _, k := range []string{"updatedAt", "createdAt"} {
		if s, _ := o[k].(string); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}

func encodeOrderCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + strconv.FormatInt(id, 10)))
}

func decodeOrderCursor(s string) (time.Time, int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, false
	}
	ts, ids, ok := strings.Cut(string(b), "|")
	at, terr := time.Parse(time.RFC3339Nano, ts)
	id, ierr := strconv.ParseInt(ids, 10, 64)
	return at, id, ok && terr == nil && ierr == nil
}
