package nuvemshopsim

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxListDepth is how deep GET /orders pages: page × per_page ≤ 10000 (API 2025-03).
const maxListDepth = 10000

// paymentAny is what payment_status "any" (the default) lists: the documentation says
// it means authorized, pending and paid orders, so voided, refunded and abandoned ones
// are listed only when asked for by name.
var paymentAny = map[string]bool{"authorized": true, "pending": true, "paid": true}

// listTime reads the ISO 8601 times the API takes and writes.
func listTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, apiStamp, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// listOrders serves GET /orders: filters since_id, status, payment_status,
// shipping_status, created_at_min/max, updated_at_min/max (bounds inclusive), paging
// with page and per_page (default 30, at most 200, page × per_page ≤ 10000), the
// X-Total-Count and Link headers, and 404 "Last page is N" past the last page (also
// for an empty result, as Nuvemshop does). Newest orders come first; the order is not
// documented and connectors must not rely on it.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, st *store) {
	q := r.URL.Query()
	page, perPage, ok := paging(w, q)
	if !ok {
		return
	}
	if page*perPage > maxListDepth {
		writeError(w, http.StatusUnprocessableEntity, "Unprocessable Entity", fmt.Sprintf("page * per_page must be at most %d", maxListDepth))
		return
	}
	bounds := map[string]time.Time{}
	for _, k := range []string{"created_at_min", "created_at_max", "updated_at_min", "updated_at_max"} {
		if v := q.Get(k); v != "" {
			t, ok := listTime(v)
			if !ok {
				writeError(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "Invalid "+k)
				return
			}
			bounds[k] = t
		}
	}
	sinceID := int64(-1)
	if v := q.Get("since_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "Invalid since_id")
			return
		}
		sinceID = n
	}
	status, payment, shipping := cmpOr(q.Get("status"), "any"), cmpOr(q.Get("payment_status"), "any"), cmpOr(q.Get("shipping_status"), "any")
	type hit struct {
		id      string
		n       int64
		created time.Time
	}
	st.data.Lock()
	var hits []hit
	for id, o := range st.orders {
		str := func(k string) string { v, _ := o[k].(string); return strings.ToLower(v) }
		n, _ := strconv.ParseInt(id, 10, 64)
		raw := func(k string) string { v, _ := o[k].(string); return v }
		created, _ := listTime(raw("created_at"))
		updated, ok := listTime(raw("updated_at"))
		if !ok {
			updated = created
		}
		in := func(t time.Time, lo, hi string) bool {
			if b, ok := bounds[lo]; ok && t.Before(b) {
				return false
			}
			if b, ok := bounds[hi]; ok && t.After(b) {
				return false
			}
			return true
		}
		switch {
		case sinceID >= 0 && n <= sinceID,
			!in(created, "created_at_min", "created_at_max"), !in(updated, "updated_at_min", "updated_at_max"),
			status != "any" && str("status") != status,
			payment == "any" && !paymentAny[str("payment_status")],
			payment != "any" && str("payment_status") != payment,
			shipping != "any" && str("shipping_status") != shipping:
			continue
		}
		hits = append(hits, hit{id, n, created})
	}
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].created.Equal(hits[j].created) {
			return hits[i].created.After(hits[j].created)
		}
		return hits[i].n > hits[j].n
	})
	total := len(hits)
	start := (page - 1) * perPage
	if start >= total {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Last page is "+strconv.Itoa((total+perPage-1)/perPage))
		return
	}
	end := min(start+perPage, total)
	var body bytes.Buffer
	body.WriteByte('[')
	for i, h := range hits[start:end] {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(st.orderBody(h.id, st.orders[h.id]))
	}
	body.WriteByte(']')
	st.data.Unlock()
	last := (total + perPage - 1) / perPage
	link := func(p int, rel string) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s?%s>; rel="%s"`, r.URL.Path, v.Encode(), rel)
	}
	links := []string{}
	if page < last {
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(last, "last"))
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	w.Header().Set("Link", strings.Join(links, ", "))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body.Bytes())
}

func cmpOr(v, def string) string {
	if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
		return v
	}
	return def
}
