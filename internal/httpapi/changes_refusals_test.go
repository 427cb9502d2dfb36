package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/worker"
)

// drainDecided hands every waiting message of q to h by hand and settles it as the
// worker loop does (delete, or dead-letter with the reason); a retry fails the test.
func drainDecided(t testing.TB, q queue.Queue, h worker.Handler) {
	t.Helper()
	ctx := context.Background()
	for {
		msgs, err := q.Receive(ctx, 10, 0)
		if err != nil {
			t.Fatalf("receive %s: %v", q.Name(), err)
		}
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			d := worker.DefaultPolicy.Decide(m, h.Handle(ctx, m))
			switch {
			case d.Delete:
				err = q.Delete(ctx, m.Receipt)
			case d.DeadReason != "":
				err = q.DeadLetter(ctx, m, d.DeadReason)
			default:
				t.Fatalf("%s message %s would be retried", q.Name(), m.Body)
			}
			if err != nil {
				t.Fatalf("settle %s message: %v", q.Name(), err)
			}
		}
	}
}

// syncByHand fans out and pushes to Tray whatever is waiting, dead-lettering refusals.
func (e *env) syncByHand(t testing.TB) {
	t.Helper()
	drainDecided(t, e.hub.Changes, e.hub.Fanout)
	drainDecided(t, e.hub.PushQueues["tray"], e.hub.Pusher)
}

// TestRefusedPriceDoesNotHoldBackStock: the store refuses prices; stock changes still
// reach it, each refused price shows in the failure inbox with the store's reason, the
// SKU view shows the stock pushed and the price not, and once the store takes prices a
// retry from the inbox brings it in line. A price in another currency never gets that
// far: it is refused at ingest, naming currency.
func TestRefusedPriceDoesNotHoldBackStock(t *testing.T) {
	e := newEnv(t)
	e.syncByHand(t)
	const cause = "O preço informado não é válido para esta loja"
	e.sim.RefusePrices("s1", cause)

	res := result(t, e.post(t, keyA, batch(
		stockItem("A-1", 2, 7),
		`{"type":"price","sku":"A-1","version":2,"price":"19.90"}`,
		`{"type":"price","sku":"A-2","version":2,"price":"5.00","currency":"USD"}`,
	), nil))
	if res.Accepted != 2 || len(res.Rejected) != 1 || res.Rejected[0].Index != 2 || res.Rejected[0].Field != "currency" ||
		!strings.Contains(res.Rejected[0].Error, "BRL") {
		t.Fatalf("result %+v, want the stock and BRL price accepted and the USD price refused naming currency", res)
	}
	e.syncByHand(t)

	product := func() (int64, decimal.Decimal) {
		p, ok := e.sim.Product("s1", "101")
		if !ok {
			t.Fatal("product 101 missing from the simulator")
		}
		return p.Stock, p.Price
	}
	failures := func() []httpapi.Failure {
		rec := e.get(t, keyA, "/v1/admin/failures?connection="+connA)
		if rec.Code != http.StatusOK {
			t.Fatalf("failures: %d %s", rec.Code, rec.Body)
		}
		return decodeBody[httpapi.FailureList](t, rec).Failures
	}
	view := func() httpapi.SKUView {
		rec := e.view(t, keyA, connA, "A-1")
		if rec.Code != http.StatusOK {
			t.Fatalf("SKU view: %d %s", rec.Code, rec.Body)
		}
		return decodeBody[httpapi.SKUView](t, rec)
	}

	if stock, price := product(); stock != 7 || !price.IsZero() {
		t.Fatalf("store holds stock %d price %s, want stock 7 and the price untouched", stock, price)
	}
	fl := failures()
	if len(fl) != 1 || fl[0].SKU != "A-1" || fl[0].Queue != "push-tray" ||
		!strings.Contains(fl[0].Reason, "price") || !strings.Contains(fl[0].Reason, cause) || !strings.Contains(fl[0].Reason, "stock pushed") {
		t.Fatalf("failures %+v, want one for A-1 naming the price and the store's reason", fl)
	}
	v := view()
	if v.InSync || v.Pushed == nil || v.Pushed.Stock == nil || *v.Pushed.Stock != 7 || v.Pushed.Price != nil ||
		v.Platform == nil || v.Platform.Stock == nil || *v.Platform.Stock != 7 {
		t.Fatalf("SKU view %+v, want stock 7 pushed and held, no price pushed, not in sync", v)
	}

	// Later stock changes keep arriving while the price stays refused.
	result(t, e.post(t, keyA, batch(stockItem("A-1", 3, 4)), nil))
	e.syncByHand(t)
	if stock, _ := product(); stock != 4 {
		t.Fatalf("store holds stock %d after the second change, want 4", stock)
	}
	if fl := failures(); len(fl) != 2 {
		t.Fatalf("failures %+v, want the price refused again", fl)
	}

	// The store takes prices again: a retry of the connection's failures fixes it.
	e.sim.RefusePrices("s1", "")
	rec := e.do(t, req{Path: "/v1/admin/failures/retry", Key: keyA, Body: `{"connection":"` + connA + `"}`})
	if rec.Code != http.StatusOK {
		t.Fatalf("retry: %d %s", rec.Code, rec.Body)
	}
	e.syncByHand(t)
	if stock, price := product(); stock != 4 || !price.Equal(decimal.RequireFromString("19.90")) {
		t.Fatalf("store holds stock %d price %s, want 4 and 19.90", stock, price)
	}
	if v := view(); !v.InSync {
		t.Fatalf("SKU view %+v, want in sync", v)
	}
	if fl := failures(); len(fl) != 0 {
		t.Fatalf("failures left %+v", fl)
	}
}

// TestPostChangesRefusesWhatItCannotTakeAsSent: every bad item is named by index and
// field in the 202, good ones in the same batch are stored, and nothing is stored
// altered (a typo'd warehouse never lands in "default").
func TestPostChangesRefusesWhatItCannotTakeAsSent(t *testing.T) {
	e := newEnv(t)
	items := []struct {
		json  string
		field string // "" means accepted
	}{
		/* 0 */ {`{"type":"stock","sku":"A-1","version":5,"quantity":3,"warehouse":"sp"}`, ""},
		/* 1 */ {`{"type":"stock","sku":"A-1","version":6,"quantity":9,"warehous":"sp"}`, "warehous"},
		/* 2 */ {"{\"type\":\"product\",\"sku\":\"A-5\",\"version\":1,\"name\":\"Caf\xe9\"}", "name"},
		/* 3 */ {`{"type":"product","sku":"A-6","version":1,"name":"x\ud800"}`, "name"},
		/* 4 */ {`{"type":"product","sku":"A\u202e7","version":1,"name":"x"}`, "sku"},
		/* 5 */ {`{"type":"product","sku":"A-8\n","version":1,"name":"x"}`, ""}, // trailing whitespace is trimmed
		/* 6 */ {`{"type":"product","sku":"A-9","version":1,"name":"` + strings.Repeat("n", 501) + `"}`, "name"},
		/* 7 */ {`{"type":"product","sku":"A-10","version":1,"name":"x","additional_codes":[` + strings.TrimSuffix(strings.Repeat(`"C",`, 51), ",") + `]}`, "additional_codes"},
		/* 8 */ {`{"type":"product","sku":"A-11","version":1,"name":"x","images":["/relative.jpg"]}`, "images"},
		/* 9 */ {`{"type":"product","sku":"A-12","version":1,"name":"x","ean":"789123"}`, "ean"},
		/* 10 */ {`{"type":"stock","sku":"A-2","version":9223372036854775807,"quantity":1}`, "version"},
		/* 11 */ {`{"type":"price","sku":"A-2","version":3,"price":"9.90","currency":"EUR"}`, "currency"},
		/* 12 */ {`{"type":"stock","sku":"A-2","sku":"A-1","version":3,"quantity":1}`, "sku"},
		/* 13 */ {`{"type":"product","sku":"A-13","version":1,"name":"Caneca","ean":"7891234567895","images":["https://cdn.example.com/a.jpg"],"additional_codes":["OLD-13"]}`, ""},
		/* 14 */ {`{"type":"customer","customer_id":"C\u200b1","version":1,"name":"x"}`, "customer_id"},
		/* 15 */ {`{"type":"order_status","order_id":"ord_1","version":1,"status":"delivered","carrier":"x","trackingcode":"y"}`, "trackingcode"},
	}
	var bodies []string
	var want []struct {
		index int
		field string
	}
	for i, it := range items {
		bodies = append(bodies, it.json)
		if it.field != "" {
			want = append(want, struct {
				index int
				field string
			}{i, it.field})
		}
	}
	res := result(t, e.post(t, keyA, batch(bodies...), nil))
	if res.Accepted != len(items)-len(want) || len(res.Rejected) != len(want) {
		t.Fatalf("result %+v, want %d accepted and %d rejected", res, len(items)-len(want), len(want))
	}
	for i, w := range want {
		if got := res.Rejected[i]; got.Index != w.index || got.Field != w.field || got.Error == "" {
			t.Errorf("rejected[%d] = %+v, want index %d field %q with a reason", i, got, w.index, w.field)
		}
	}
	a1, _ := e.sku(t, "acme", "A-1")
	if _, ok := a1.Stock["default"]; ok || a1.Stock["sp"].Quantity != 3 {
		t.Errorf("A-1 stock %+v, want only sp=3 (the typo'd item must not reach default)", a1.Stock)
	}
	if st, ok := e.sku(t, "acme", "A-8"); !ok || st.Product == nil {
		t.Errorf("A-8 not stored")
	}
	if st, ok := e.sku(t, "acme", "A-13"); !ok || st.Product == nil || st.Product.EAN != "7891234567895" || len(st.Product.Images) != 1 {
		t.Errorf("A-13 stored as %+v", st.Product)
	}
	for _, sku := range []string{"A-5", "A-6", "A\u202e7", "A-9", "A-10", "A-11", "A-12"} {
		if st, ok := e.sku(t, "acme", sku); ok {
			t.Errorf("%q stored from a refused item: %+v", sku, st.Product)
		}
	}
	if a2, _ := e.sku(t, "acme", "A-2"); len(a2.Stock) != 0 || a2.Price != nil {
		t.Errorf("A-2 changed by refused items: %+v", a2)
	}
}

// TestPostChangesEnvelopeAndMediaType: a body that is not a batch is a 400 naming the
// offending member, and anything but JSON is a 415 before the body is read.
func TestPostChangesEnvelopeAndMediaType(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name        string
		contentType string
		body        string
		status      int
		field       string
	}{
		{"JSON", "application/json", batch(), 202, ""},
		{"JSON with UTF-8 charset", "application/json; charset=UTF-8", batch(), 202, ""},
		{"no Content-Type", "", batch(), 415, "Content-Type"},
		{"form post (curl -d default)", "application/x-www-form-urlencoded", batch(), 415, "Content-Type"},
		{"text", "text/plain", batch(), 415, "Content-Type"},
		{"JSON in Latin-1", "application/json; charset=iso-8859-1", batch(), 415, "Content-Type"},
		{"malformed media type", "application/json; charset", batch(), 415, "Content-Type"},
		{"unknown envelope field", "application/json", `{"changes":[],"source":"erp"}`, 400, "source"},
		{"changes in another case", "application/json", `{"Changes":[]}`, 400, "Changes"},
		{"changes given twice", "application/json", `{"changes":[` + stockItem("A-1", 2, 1) + `],"changes":[]}`, 400, "changes"},
		{"null", "application/json", `null`, 400, "body"},
		{"invalid UTF-8 outside strings", "application/json", "{\"changes\":[]\xff}", 400, "body"},
		{"byte order mark", "application/json", "\xef\xbb\xbf" + batch(), 400, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := req{Path: "/v1/erp/changes", Key: keyA, Body: c.body, Header: map[string]string{"Content-Type": c.contentType}}
			rec := e.do(t, r)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if c.status == http.StatusAccepted {
				return
			}
			if eb := errorBody(t, rec); eb.Field != c.field || eb.Error == "" {
				t.Fatalf("error %+v, want field %q", eb, c.field)
			}
		})
	}
	if a1, _ := e.sku(t, "acme", "A-1"); len(a1.Stock) != 0 {
		t.Fatalf("a refused batch was applied: %+v", a1.Stock)
	}
}
