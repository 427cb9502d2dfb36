package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/orders"
)

func ackPath(id string) string { return "/v1/erp/orders/" + id + "/ack" }

func TestAck(t *testing.T) {
	cases := []struct {
		name   string
		key    string
		id     string
		body   string
		ackErr error
		status int
		field  string // error answers
		errHas string
		want   *orders.Ack // what the use case got
	}{
		{name: "registered", body: `{"erp_order_number":" PV-1001 "}`, status: 200, want: &orders.Ack{ERPOrderNumber: "PV-1001"}},
		{name: "rejected", body: `{"rejected":true,"reason":"customer blocked"}`, status: 200, want: &orders.Ack{Rejected: true, Reason: "customer blocked"}},
		{name: "rejected false with a number", body: `{"erp_order_number":"7","rejected":false}`, status: 200, want: &orders.Ack{ERPOrderNumber: "7"}},
		{name: "64 characters, multibyte", body: `{"erp_order_number":"` + strings.Repeat("é", 64) + `"}`, status: 200, want: &orders.Ack{ERPOrderNumber: strings.Repeat("é", 64)}},
		{name: "65 characters", body: `{"erp_order_number":"` + strings.Repeat("9", 65) + `"}`, status: 400, field: "erp_order_number", errHas: "at most 64"},
		{name: "both forms", body: `{"erp_order_number":"1","rejected":true,"reason":"x"}`, status: 400, field: "erp_order_number", errHas: "not both"},
		{name: "rejected without reason", body: `{"rejected":true}`, status: 400, field: "reason", errHas: "required"},
		{name: "rejected with blank reason", body: `{"rejected":true,"reason":"  "}`, status: 400, field: "reason", errHas: "required"},
		{name: "reason too long", body: `{"rejected":true,"reason":"` + strings.Repeat("r", 1001) + `"}`, status: 400, field: "reason", errHas: "at most"},
		{name: "reason without rejected", body: `{"erp_order_number":"1","reason":"x"}`, status: 400, field: "reason", errHas: "rejected"},
		{name: "neither form", body: `{}`, status: 400, field: "erp_order_number", errHas: "required"},
		{name: "blank number", body: `{"erp_order_number":" "}`, status: 400, field: "erp_order_number", errHas: "required"},
		{name: "number not a string", body: `{"erp_order_number":1001}`, status: 400, field: "erp_order_number", errHas: "string"},
		{name: "unknown field", body: `{"erp_order_number":"1","order_number":"1"}`, status: 400, field: "order_number", errHas: "unknown field"},
		{name: "malformed", body: `{"erp_order_number":`, status: 400, field: "body", errHas: "malformed JSON"},
		{name: "empty body", body: ``, status: 400, field: "body", errHas: "malformed JSON"},
		{name: "trailing data", body: `{"erp_order_number":"1"} {}`, status: 400, field: "body", errHas: "trailing"},
		{name: "over 64 KiB", body: padTo(t, `{"erp_order_number":"1"}`, 64<<10+1), status: 413, field: "body", errHas: "64 KiB"},
		{name: "exactly 64 KiB", body: padTo(t, `{"erp_order_number":"1"}`, 64<<10), status: 200, want: &orders.Ack{ERPOrderNumber: "1"}},
		{name: "unknown order", id: "ord_9", body: `{"erp_order_number":"1"}`, status: 404, field: "id", want: &orders.Ack{ERPOrderNumber: "1"}},
		{name: "another tenant's order", key: keyB, body: `{"erp_order_number":"1"}`, status: 404, field: "id", want: &orders.Ack{ERPOrderNumber: "1"}},
		{name: "step not allowed", body: `{"erp_order_number":"1"}`, ackErr: fmt.Errorf("%w: order ord_1 is cancelled", orders.ErrTransition),
			status: 409, errHas: "order ord_1 is cancelled", want: &orders.Ack{ERPOrderNumber: "1"}},
		{name: "store down", body: `{"erp_order_number":"1"}`, ackErr: errors.New("database is locked"), status: 503, errHas: "retry", want: &orders.Ack{ERPOrderNumber: "1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeOrders()
			f.ackErr = c.ackErr
			h, _ := ordersAPI(t, f)
			key, id := c.key, c.id
			if key == "" {
				key = keyA
			}
			if id == "" {
				id = "ord_1"
			}
			rec := serve(h, req{Path: ackPath(id), Key: key, Body: c.body})
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			switch {
			case c.want == nil && len(f.acks) != 0:
				t.Fatalf("a refused ack reached the use case: %+v", f.acks)
			case c.want != nil && (len(f.acks) != 1 || f.acks[0] != *c.want):
				t.Fatalf("use case got %+v, want %+v", f.acks, *c.want)
			}
			if c.status == 200 {
				got := decodeBody[domain.OrderRecord](t, rec)
				if got.ID != id || got.ERP.OrderNumber != c.want.ERPOrderNumber || got.Outbox != nil {
					t.Fatalf("answer %+v", got)
				}
				return
			}
			if eb := errorBody(t, rec); eb.Field != c.field || !strings.Contains(eb.Error, c.errHas) {
				t.Fatalf("error %+v, want field %q and %q", eb, c.field, c.errHas)
			}
		})
	}
}

func TestAckIdempotencyKey(t *testing.T) {
	f := newFakeOrders()
	h, _ := ordersAPI(t, f)
	send := func(id, key, body string) (int, string, string) {
		rec := serve(h, req{Path: ackPath(id), Key: keyA, Body: body, Header: map[string]string{"Idempotency-Key": key}})
		return rec.Code, rec.Body.String(), rec.Header().Get("Idempotent-Replayed")
	}
	first, body1, _ := send("ord_1", "k1", `{"erp_order_number":"PV-1"}`)
	again, body2, replayed := send("ord_1", "k1", `{"erp_order_number":"PV-1"}`)
	if first != 200 || again != 200 || body1 != body2 || replayed != "true" || len(f.acks) != 1 {
		t.Fatalf("repeat: %d/%d replayed %q, %d acks applied; want one applied and the same answer replayed", first, again, replayed, len(f.acks))
	}
	if code, _, _ := send("ord_1", "k1", `{"erp_order_number":"PV-2"}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body: %d, want 422", code)
	}
	if code, _, _ := send("ord_2", "k1", `{"erp_order_number":"PV-1"}`); code != 200 || len(f.acks) != 2 {
		t.Fatalf("same key on another order: %d with %d acks, want its own 200", code, len(f.acks))
	}
	f.ackErr = errors.New("database is locked")
	if code, _, _ := send("ord_1", "k2", `{"erp_order_number":"PV-3"}`); code != 503 {
		t.Fatalf("store down: %d", code)
	}
	f.ackErr = nil
	if code, body, replayed := send("ord_1", "k2", `{"erp_order_number":"PV-3"}`); code != 200 || replayed != "" || !strings.Contains(body, "PV-3") {
		t.Fatalf("retry after a 503 must run again: %d replayed %q %s", code, replayed, body)
	}
	rec := serve(h, req{Path: ackPath("ord_1"), Key: keyA, Body: `{"erp_order_number":"1"}`, Header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}})
	if rec.Code != 400 || errorBody(t, rec).Field != "Idempotency-Key" {
		t.Fatalf("long key: %d %s", rec.Code, rec.Body)
	}
}

func TestPurchaseNeeds(t *testing.T) {
	cases := []struct {
		name, key, query string
		asked            string
		skus             string
	}{
		{"all suppliers", keyA, "", "acme|", "A-1 A-2"},
		{"one supplier", keyA, "?supplier=s2", "acme|s2", "A-2"},
		{"tenant comes from the key", keyB, "?supplier=s1", "beta|s1", "B-1"},
		{"nothing to buy", keyB, "?supplier=s2", "beta|s2", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeOrders()
			h, _ := ordersAPI(t, f)
			rec := serve(h, req{Method: http.MethodGet, Path: "/v1/erp/purchase-needs" + c.query, Key: c.key})
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"needs":[`) {
				t.Fatalf("%d %s, want 200 with a needs array", rec.Code, rec.Body)
			}
			var skus []string
			for _, n := range decodeBody[httpapi.PurchaseNeedList](t, rec).Needs {
				skus = append(skus, n.SKU)
			}
			if len(f.needsAsked) != 1 || f.needsAsked[0] != c.asked || strings.Join(skus, " ") != c.skus {
				t.Fatalf("asked %v got %v, want %s -> %s", f.needsAsked, skus, c.asked, c.skus)
			}
		})
	}
}
