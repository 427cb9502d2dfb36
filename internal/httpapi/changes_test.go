package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/ingest"
)

func stockItem(sku string, version, qty int) string {
	return fmt.Sprintf(`{"type":"stock","sku":%q,"version":%d,"quantity":%d}`, sku, version, qty)
}

// padTo pads a JSON body with trailing spaces (valid JSON whitespace) to exactly n bytes.
func padTo(t *testing.T, body string, n int) string {
	t.Helper()
	if len(body) > n {
		t.Fatalf("body already %d bytes > %d", len(body), n)
	}
	return body + strings.Repeat(" ", n-len(body))
}

func TestPostChangesStatusCodes(t *testing.T) {
	e := newEnv(t)
	many := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = stockItem("A-1", 7, 3) // same version: the first is applied, the rest are duplicates
		}
		return batch(items...)
	}
	cases := []struct {
		name   string
		r      req
		status int
		field  string // error answers: the field named
		errHas string // error answers: part of the message
		// 202 answers
		accepted, duplicates int
	}{
		{name: "no Authorization header", r: req{Body: batch()}, status: 401, field: "authorization", errHas: "missing bearer key"},
		{name: "Basic scheme", r: req{Auth: "Basic YWNtZTprZXk=", Body: batch()}, status: 401, field: "authorization", errHas: "missing bearer key"},
		{name: "empty bearer", r: req{Auth: "Bearer    ", Body: batch()}, status: 401, field: "authorization", errHas: "missing bearer key"},
		{name: "unknown key", r: req{Key: "not-a-tenant-key", Body: batch()}, status: 401, field: "authorization", errHas: "unknown key"},
		{name: "key hash instead of key", r: req{Key: e.hub.Keys.Hash(keyA), Body: batch()}, status: 401, field: "authorization", errHas: "unknown key"},
		{name: "bad key is refused before the size check", r: req{Key: "wrong", Body: strings.Repeat(" ", ingest.MaxBatchBytes+1)}, status: 401, field: "authorization"},
		{name: "malformed JSON", r: req{Key: keyA, Body: `{"changes":[`}, status: 400, field: "body", errHas: "malformed JSON"},
		{name: "empty body", r: req{Key: keyA, Header: map[string]string{"Content-Type": "application/json"}}, status: 400, field: "body", errHas: "malformed JSON"},
		{name: "array instead of object", r: req{Key: keyA, Body: `[{"type":"stock"}]`}, status: 400, field: "body", errHas: "malformed JSON"},
		{name: "changes not an array", r: req{Key: keyA, Body: `{"changes":{"type":"stock"}}`}, status: 400, field: "body", errHas: "malformed JSON"},
		{name: "changes missing", r: req{Key: keyA, Body: `{}`}, status: 400, field: "body", errHas: `"changes": required`},
		{name: "changes null", r: req{Key: keyA, Body: `{"changes":null}`}, status: 400, field: "body", errHas: `"changes": required`},
		{name: "trailing data", r: req{Key: keyA, Body: `{"changes":[]} {"changes":[]}`}, status: 400, field: "body", errHas: "trailing data"},
		{name: "1001 changes", r: req{Key: keyA, Body: many(1001)}, status: 400, field: "body", errHas: "at most 1000"},
		{name: "over 1 MiB", r: req{Key: keyA, Body: `{"changes":[]}` + strings.Repeat(" ", ingest.MaxBatchBytes)}, status: 413, field: "body", errHas: "1 MiB"},
		{name: "Idempotency-Key over 255 characters", r: req{Key: keyA, Body: batch(), Header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}}, status: 400, field: "Idempotency-Key"},
		{name: "empty batch", r: req{Key: keyA, Body: batch()}, status: 202},
		{name: "1000 changes", r: req{Key: keyA, Body: many(1000)}, status: 202, accepted: 1000, duplicates: 999},
		{name: "exactly 1 MiB", r: req{Key: keyA, Body: padTo(t, batch(stockItem("A-2", 1, 1)), ingest.MaxBatchBytes)}, status: 202, accepted: 1},
		{name: "key surrounded by spaces", r: req{Auth: "Bearer  " + keyA + " ", Body: batch()}, status: 202},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.r.Path = "/v1/erp/changes"
			rec := e.do(t, c.r)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, c.status, rec.Body)
			}
			if c.status != http.StatusAccepted {
				eb := errorBody(t, rec)
				if eb.Field != c.field || !strings.Contains(eb.Error, c.errHas) || eb.Error == "" {
					t.Fatalf("error body %+v, want field %q and an error containing %q", eb, c.field, c.errHas)
				}
				return
			}
			res := result(t, rec)
			if res.Accepted != c.accepted || res.Duplicates != c.duplicates || len(res.Rejected) != 0 {
				t.Fatalf("result %+v, want accepted %d duplicates %d and nothing rejected", res, c.accepted, c.duplicates)
			}
			if !strings.Contains(rec.Body.String(), `"rejected":[]`) {
				t.Fatalf("rejected must be an empty array, not null: %s", rec.Body)
			}
		})
	}
}

func TestPostChangesRoutes(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/v1/erp/changes", http.StatusMethodNotAllowed},
		{http.MethodPut, "/v1/erp/changes", http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/erp/change", http.StatusNotFound},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			rec := e.do(t, req{Method: c.method, Path: c.path, Key: keyA, Body: batch()})
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d", rec.Code, c.status)
			}
		})
	}
}

// TestPostChangesBadItems sends one batch mixing good items with every kind of bad one:
// each bad item is named by index and field, every good one is stored.
func TestPostChangesBadItems(t *testing.T) {
	e := newEnv(t)
	// A stored version to be older than.
	if res := result(t, e.post(t, keyA, batch(`{"type":"stock","sku":"A-1","warehouse":"rj","version":10,"quantity":4}`), nil)); res.Accepted != 1 {
		t.Fatalf("seed: %+v", res)
	}
	items := []struct {
		json  string
		field string // "" means accepted
	}{
		/* 0 */ {`{"type":"stock","sku":"A-1","version":20,"quantity":7}`, ""},
		/* 1 */ {`{"type":"colour","sku":"A-1","version":20,"quantity":7}`, "type"},
		/* 2 */ {`{"type":"stock","sku":"A-1","version":21,"quantity":-1}`, "quantity"},
		/* 3 */ {`{"type":"stock","sku":"A-1","version":21,"quantity":"abc"}`, "quantity"},
		/* 4 */ {`{"type":"stock","sku":"A-1","version":21,"quantity":"5"}`, "quantity"},
		/* 5 */ {`{"type":"stock","sku":"A-1","version":21,"quantity":1.5}`, "quantity"},
		/* 6 */ {`{"type":"stock","sku":"A-1","version":21,"quantity":true}`, "quantity"},
		/* 7 */ {`{"type":"price","sku":"A-2","version":5,"price":"10.12345"}`, "price"},
		/* 8 */ {`{"type":"price","sku":"A-2","version":5,"price":"19.90","cost":"7.5"}`, ""},
		/* 9 */ {`{"type":"stock","sku":"NOPE-1","version":1,"quantity":1}`, "sku"},
		/* 10 */ {`{"type":"stock","sku":"A-1","warehouse":"rj","version":9,"quantity":99}`, "version"},
		/* 11 */ {`{"type":"stock","version":1,"quantity":1}`, "sku"},
		/* 12 */ {`{"type":"stock","sku":"A-1","quantity":1}`, "version"},
		/* 13 */ {`{"type":"stock","sku":"A-1","version":"abc","quantity":1}`, "version"},
		/* 14 */ {`{"type":"stock","sku":"A-1","version":-3,"quantity":1}`, "version"},
		/* 15 */ {`{"type":"product","sku":"A-9","version":1}`, "name"},
		/* 16 */ {`{"sku":"A-1","version":1,"quantity":1}`, "type"},
		/* 17 */ {`42`, "item"},
		/* 18 */ {`{"type":"stock","sku":123,"version":1,"quantity":1}`, "sku"},
		/* 19 */ {`{"type":"product","sku":"A-9","version":1,"name":"x","ean":"12a"}`, "ean"},
		/* 20 */ {`{"type":"price","sku":"A-2","version":6,"price":"1","currency":"EURO"}`, "currency"},
		/* 21 */ {`{"type":"price","sku":"A-2","version":6,"price":"1","list_price":"-1"}`, "list_price"},
		/* 22 */ {`{"type":"product","sku":"A-3","version":1,"name":"New product"}`, ""},
		/* 23 */ {`{"type":"stock","sku":"A-1","version":22}`, "quantity"},
		/* 24 */ {`{"type":"price","sku":"A-2","version":6,"price":"10.10000"}`, ""},
		/* 25 */ {`{"type":"price","sku":"A-2","version":7,"price":12.5}`, ""},
		/* 26 */ {`{"type":"price","sku":"A-2","version":8}`, "price"},
		/* 27 */ {`{"type":"stock","sku":"A#1","version":1,"quantity":1}`, "sku"},
		/* 28 */ {`{"type":"stock","sku":"` + strings.Repeat("x", 129) + `","version":1,"quantity":1}`, "sku"},
		/* 29 */ {`{"type":"stock","sku":"A-1","version":23,"quantity":1e3}`, ""},
	}
	var bodies []string
	type want struct {
		index int
		field string
	}
	var wantRejected []want
	accepted := 0
	for i, it := range items {
		bodies = append(bodies, it.json)
		if it.field == "" {
			accepted++
		} else {
			wantRejected = append(wantRejected, want{i, it.field})
		}
	}
	res := result(t, e.post(t, keyA, batch(bodies...), nil))
	if res.Accepted != accepted || res.Duplicates != 0 {
		t.Errorf("accepted %d duplicates %d, want %d and 0", res.Accepted, res.Duplicates, accepted)
	}
	if len(res.Rejected) != len(wantRejected) {
		t.Fatalf("rejected %d items, want %d: %+v", len(res.Rejected), len(wantRejected), res.Rejected)
	}
	for i, w := range wantRejected {
		got := res.Rejected[i]
		if got.Index != w.index || got.Field != w.field || got.Error == "" {
			t.Errorf("rejected[%d] = %+v, want index %d field %q with a reason (item %s)", i, got, w.index, w.field, items[w.index].json)
		}
	}

	// The good items are stored, the bad ones left no trace.
	a1, _ := e.sku(t, "acme", "A-1")
	if got := a1.Stock["default"]; got.Quantity != 1000 || got.Version != 23 {
		t.Errorf("A-1 default stock %+v, want 1000 at version 23", got)
	}
	if got := a1.Stock["rj"]; got.Quantity != 4 || got.Version != 10 {
		t.Errorf("A-1 rj stock %+v, want 4 at version 10 (the older version 9 is ignored)", got)
	}
	a2, _ := e.sku(t, "acme", "A-2")
	if a2.Price == nil || a2.Price.Price.Amount.String() != "12.5" || a2.Price.Version != 7 {
		t.Errorf("A-2 price %+v, want 12.5 at version 7", a2.Price)
	}
	if a3, ok := e.sku(t, "acme", "A-3"); !ok || a3.Product == nil || a3.Product.Name != "New product" {
		t.Errorf("A-3 %+v (known %v), want the new product stored", a3, ok)
	}
	for _, sku := range []string{"NOPE-1", "A-9"} {
		if st, ok := e.sku(t, "acme", sku); ok {
			t.Errorf("%s stored from a rejected item: %+v", sku, st)
		}
	}
}

func TestPostChangesDuplicates(t *testing.T) {
	e := newEnv(t)
	body := batch(stockItem("A-1", 5, 8), `{"type":"price","sku":"A-1","version":5,"price":"9.90"}`)
	if res := result(t, e.post(t, keyA, body, nil)); res.Accepted != 2 || res.Duplicates != 0 {
		t.Fatalf("first post: %+v", res)
	}
	before, _ := e.sku(t, "acme", "A-1")
	res := result(t, e.post(t, keyA, body, nil))
	if res.Accepted != 2 || res.Duplicates != 2 || len(res.Rejected) != 0 {
		t.Fatalf("repeat without Idempotency-Key: %+v, want 2 accepted, both duplicates", res)
	}
	if after, _ := e.sku(t, "acme", "A-1"); after.Rev != before.Rev {
		t.Fatalf("a duplicate batch moved the SKU from rev %d to %d", before.Rev, after.Rev)
	}
}

func TestPostChangesIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	var applied int
	e.hub.API.Observer = func(string, ingest.Result, time.Time) { applied++ }
	e.h = e.hub.API.Handler()

	hdr := map[string]string{"Idempotency-Key": "batch-0001"}
	body := batch(stockItem("A-1", 2, 5), stockItem("NOPE", 1, 1))
	first := e.post(t, keyA, body, hdr)
	res := result(t, first)
	if res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1 {
		t.Fatalf("first: %+v", res)
	}
	if first.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("first answer marked as a replay")
	}
	// A newer version lands in between; a re-applied replay would now be rejected as older.
	if res := result(t, e.post(t, keyA, batch(stockItem("A-1", 3, 9)), nil)); res.Accepted != 1 {
		t.Fatalf("newer version: %+v", res)
	}
	afterNewer, _ := e.sku(t, "acme", "A-1")
	appliedBefore := applied

	cases := []struct {
		name     string
		key      string
		body     string
		hdr      map[string]string
		status   int
		replayed bool
		field    string
	}{
		{name: "same key and body replays", key: keyA, body: body, hdr: hdr, status: 202, replayed: true},
		{name: "replays again", key: keyA, body: body, hdr: hdr, status: 202, replayed: true},
		{name: "same key, other body", key: keyA, body: batch(stockItem("A-1", 4, 1)), hdr: hdr, status: 422, field: "Idempotency-Key"},
		{name: "same key, same body plus whitespace", key: keyA, body: body + " ", hdr: hdr, status: 422, field: "Idempotency-Key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.post(t, c.key, c.body, c.hdr)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if got := rec.Header().Get("Idempotent-Replayed") == "true"; got != c.replayed {
				t.Fatalf("Idempotent-Replayed %q, want replayed=%v", rec.Header().Get("Idempotent-Replayed"), c.replayed)
			}
			if c.replayed {
				if rec.Body.String() != first.Body.String() {
					t.Fatalf("replay body %s differs from the first answer %s", rec.Body, first.Body)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("replay Content-Type %q", ct)
				}
				return
			}
			if eb := errorBody(t, rec); eb.Field != c.field {
				t.Fatalf("error %+v, want field %q", eb, c.field)
			}
		})
	}
	if applied != appliedBefore {
		t.Fatalf("replays and refusals applied %d batches, want none", applied-appliedBefore)
	}
	if now, _ := e.sku(t, "acme", "A-1"); now.Rev != afterNewer.Rev || now.Stock["default"].Quantity != 9 {
		t.Fatalf("A-1 after replays: rev %d qty %d, want rev %d qty 9", now.Rev, now.Stock["default"].Quantity, afterNewer.Rev)
	}

	// Keys are per tenant: beta's identical key runs beta's own batch.
	rec := e.post(t, keyB, batch(stockItem("B-1", 1, 3)), hdr)
	if rec.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("beta got acme's replay: %s", rec.Body)
	}
	if res := result(t, rec); res.Accepted != 1 {
		t.Fatalf("beta with the same key: %+v", res)
	}
	if b1, _ := e.sku(t, "beta", "B-1"); b1.Stock["default"].Quantity != 3 {
		t.Fatalf("beta's batch not applied: %+v", b1.Stock)
	}
}

func TestPostChangesIdempotencyInProgress(t *testing.T) {
	e := newEnv(t)
	body := batch(stockItem("A-1", 1, 1))
	sum := sha256.Sum256([]byte(body))
	// Another request with this key is running (the API scopes keys as tenant:key).
	if _, claimed, err := e.hub.Store.ClaimIdempotency(context.Background(), "acme:busy", hex.EncodeToString(sum[:]), time.Hour); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	rec := e.post(t, keyA, body, map[string]string{"Idempotency-Key": "busy"})
	if rec.Code != http.StatusConflict || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 409 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if eb := errorBody(t, rec); eb.Field != "Idempotency-Key" {
		t.Fatalf("error %+v", eb)
	}
	if st, _ := e.sku(t, "acme", "A-1"); len(st.Stock) != 0 {
		t.Fatalf("a refused request applied its batch: %+v", st.Stock)
	}
}

func TestTenantIsolationOnChanges(t *testing.T) {
	e := newEnv(t)
	if res := result(t, e.post(t, keyA, batch(stockItem("A-1", 5, 5)), nil)); res.Accepted != 1 {
		t.Fatalf("acme: %+v", res)
	}
	cases := []struct {
		name  string
		item  string
		field string
	}{
		{"stock on another tenant's SKU", stockItem("A-1", 6, 0), "sku"},
		{"price on another tenant's SKU", `{"type":"price","sku":"A-1","version":6,"price":"0.01"}`, "sku"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := result(t, e.post(t, keyB, batch(c.item), nil))
			if res.Accepted != 0 || len(res.Rejected) != 1 || res.Rejected[0].Field != c.field || res.Rejected[0].Index != 0 {
				t.Fatalf("beta writing A-1: %+v", res)
			}
		})
	}
	// A product change under beta's key creates beta's own A-1, never touches acme's.
	if res := result(t, e.post(t, keyB, batch(`{"type":"product","sku":"A-1","version":9,"name":"Beta's A-1"}`), nil)); res.Accepted != 1 {
		t.Fatalf("beta product: %+v", res)
	}
	a1, _ := e.sku(t, "acme", "A-1")
	if a1.Product.Name != "Product A-1" || a1.Stock["default"].Quantity != 5 {
		t.Fatalf("acme's A-1 changed by beta: %+v", a1)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{"", keyA, "wrong"} {
		rec := e.do(t, req{Method: http.MethodGet, Path: "/healthz", Key: key})
		if rec.Code != http.StatusOK {
			t.Fatalf("key %q: status %d", key, rec.Code)
		}
		if got := decodeBody[map[string]string](t, rec); got["status"] != "ok" || len(got) != 1 {
			t.Fatalf("body %v", got)
		}
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	generated := regexp.MustCompile(`^[0-9a-f]{24}$`)
	long := strings.Repeat("r", 101)
	cases := []struct {
		name string
		r    req
		sent string
		echo bool
	}{
		{"echoed on health", req{Method: http.MethodGet, Path: "/healthz"}, "req-123", true},
		{"echoed on 202", req{Path: "/v1/erp/changes", Key: keyA, Body: batch()}, "erp-batch-77", true},
		{"echoed on 401", req{Path: "/v1/erp/changes", Body: batch()}, "no-key-1", true},
		{"echoed on 404", req{Method: http.MethodGet, Path: "/v1/admin/connections/nope/skus/A-1", Key: keyA}, "adm-1", true},
		{"100 characters kept", req{Method: http.MethodGet, Path: "/healthz"}, strings.Repeat("r", 100), true},
		{"generated when absent", req{Method: http.MethodGet, Path: "/healthz"}, "", false},
		{"over 100 characters replaced", req{Method: http.MethodGet, Path: "/healthz"}, long, false},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.sent != "" {
				c.r.Header = map[string]string{"X-Request-Id": c.sent}
			}
			got := e.do(t, c.r).Header().Get("X-Request-Id")
			switch {
			case c.echo && got != c.sent:
				t.Fatalf("X-Request-Id %q, want %q echoed", got, c.sent)
			case !c.echo && !generated.MatchString(got):
				t.Fatalf("X-Request-Id %q, want a generated id", got)
			}
			if !c.echo {
				if seen[got] {
					t.Fatalf("generated id %q reused", got)
				}
				seen[got] = true
			}
		})
	}
}
