package woocommercesim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func start(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	s := New(opts)
	s.AddStore("s1", StoreConfig{ConsumerKey: "ck_1", ConsumerSecret: "cs_1"})
	s.AddStore("s2", StoreConfig{ConsumerKey: "ck_2", ConsumerSecret: "cs_2", RateLimitPerMin: 2})
	base, err := s.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, base
}

func call(t *testing.T, method, url, user, pass, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestAuthStoresAndLimits(t *testing.T) {
	s, base := start(t, Options{})
	id, _ := s.AddProduct("s1", "A", 3, decimal.RequireFromString("9.90"))
	api1, api2 := StoreURL(base, "s1")+APIPath, StoreURL(base, "s2")+APIPath
	tests := []struct {
		name, url, user, pass string
		code                  int
		body                  string
	}{
		{"basic auth", api1 + "/products", "ck_1", "cs_1", 200, `"sku":"A"`},
		{"query auth", api1 + "/products?consumer_key=ck_1&consumer_secret=cs_1", "", "", 200, `"stock_quantity":3`},
		{"no auth", api1 + "/products", "", "", 401, "woocommerce_rest_cannot_view"},
		{"wrong secret", api1 + "/products", "ck_1", "cs_x", 401, "Consumer secret is invalid."},
		{"other store's key", api2 + "/products", "ck_1", "cs_1", 401, "Consumer key is invalid."},
		{"unknown store", StoreURL(base, "nope") + APIPath + "/products", "ck_1", "cs_1", 404, "rest_no_route"},
		{"unknown route", api1 + "/coupons", "ck_1", "cs_1", 404, "rest_no_route"},
		{"per_page over 100", api1 + "/products?per_page=101", "ck_1", "cs_1", 400, "per_page"},
		{"one product", api1 + "/products/" + itoa(id), "ck_1", "cs_1", 200, `"price":"9.90"`},
	}
	for _, tt := range tests {
		code, body, _ := call(t, http.MethodGet, tt.url, tt.user, tt.pass, "")
		if code != tt.code || !strings.Contains(body, tt.body) {
			t.Fatalf("%s: %d %s", tt.name, code, body)
		}
	}
	// s2 allows 2 requests a minute (one was used above); the third is a 429 with hints.
	call(t, http.MethodGet, api2+"/products", "ck_2", "cs_2", "")
	code, body, h := call(t, http.MethodGet, api2+"/products", "ck_2", "cs_2", "")
	if code != 429 || h.Get("Retry-After") == "" || h.Get("RateLimit-Remaining") != "0" || !strings.Contains(body, "rate_limit_exceeded") {
		t.Fatalf("limit: %d %s %v", code, body, h)
	}
	if c := s.Calls("s2"); c.Total != 3 || c.RateLimited != 1 || c.Writes != 0 {
		t.Fatalf("counters %+v", c)
	}
}

func itoa(n int64) string { return decimal.NewFromInt(n).String() }

func TestBatch(t *testing.T) {
	var seen []int64
	s, base := start(t, Options{BatchLimit: 3, OnStockWrite: func(_, _, _ string, stock int64, _ time.Time) { seen = append(seen, stock) }})
	a, _ := s.AddProduct("s1", "A", 1, decimal.RequireFromString("5"))
	b, _ := s.AddProduct("s1", "B", 1, decimal.RequireFromString("5"))
	url := StoreURL(base, "s1") + APIPath + "/products/batch"
	body := `{"update":[{"id":` + itoa(a) + `,"stock_quantity":4,"manage_stock":true},{"id":424242,"stock_quantity":1},` +
		`{"id":` + itoa(b) + `,"regular_price":"abc"}]}`
	code, resp, _ := call(t, http.MethodPost, url, "ck_1", "cs_1", body)
	if code != 200 || !strings.Contains(resp, `"id":424242,"error":{"code":"woocommerce_rest_product_invalid_id"`) ||
		!strings.Contains(resp, `"Invalid parameter(s): regular_price"`) || !strings.Contains(resp, `"stock_quantity":4`) {
		t.Fatalf("batch: %d %s", code, resp)
	}
	if it, _ := s.Item("s1", b); it.Regular != "5.00" {
		t.Fatalf("invalid item was applied: %+v", it)
	}
	if len(seen) != 1 || seen[0] != 4 {
		t.Fatalf("observer %v", seen)
	}
	code, resp, _ = call(t, http.MethodPost, url, "ck_1", "cs_1", `{"update":[{"id":1},{"id":2},{"id":3},{"id":4}]}`)
	if code != 413 || !strings.Contains(resp, "woocommerce_rest_request_entity_too_large") {
		t.Fatalf("limit: %d %s", code, resp)
	}
	s.Poison("s1", a)
	if code, resp, _ = call(t, http.MethodPost, url, "ck_1", "cs_1", `{"update":[{"id":`+itoa(a)+`}]}`); code != 400 {
		t.Fatalf("poison: %d %s", code, resp)
	}
	if c := s.Calls("s1"); c.Writes != 3 {
		t.Fatalf("writes %+v", c)
	}
}

func TestFaults(t *testing.T) {
	s, base := start(t, Options{})
	api := StoreURL(base, "s1") + APIPath + "/products"
	s.InjectFault("s1", Fault{Kind: FaultServerError, Count: 2})
	s.InjectFault("s1", Fault{Kind: FaultRateLimit, RetryAfter: 5 * time.Second})
	s.InjectFault("s1", Fault{Kind: FaultMalformed})
	for _, want := range []int{500, 500, 429, 200, 200} {
		if code, _, _ := call(t, http.MethodGet, api, "ck_1", "cs_1", ""); code != want {
			t.Fatalf("got %d, want %d", code, want)
		}
	}
	s.InjectFault("s1", Fault{Kind: FaultTruncated})
	req, _ := http.NewRequest(http.MethodGet, api, nil)
	req.SetBasicAuth("ck_1", "cs_1")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("truncated body read without error")
	}
	if c := s.Calls("s1"); c.Faults != 5 || c.RateLimited != 0 {
		t.Fatalf("counters %+v", c)
	}
}

func TestRawOrderServedVerbatimAndSigned(t *testing.T) {
	k := NewKit()
	base, err := k.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	if _, err := k.NewStore("s1", 0); err != nil {
		t.Fatal(err)
	}
	// Key order, spacing and a \u escape that a re-encoding would all change.
	body := []byte(`{"status":"processing", "id":41,"date_modified_gmt":"2026-01-02T03:04:05","billing":{"first_name":"Jo\u00e3o"},"price":3}`)
	d, err := k.DeliverOrder("s1", "created", body)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(webhookSecret("s1")))
	mac.Write(body)
	if string(d.Body) != string(body) || d.Header.Get("X-WC-Webhook-Signature") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) ||
		d.Header.Get("X-WC-Webhook-Topic") != "order.created" || d.Header.Get("X-WC-Webhook-Resource") != "order" {
		t.Fatalf("delivery %v %s", d.Header, d.Body)
	}
	api := StoreURL(base, "s1") + APIPath
	if code, got, _ := call(t, "GET", api+"/orders/41", "ck_s1", "cs_s1", ""); code != 200 || got != string(body) {
		t.Fatalf("GET %d %s", code, got)
	}
	if code, got, _ := call(t, "GET", api+"/orders", "ck_s1", "cs_s1", ""); code != 200 || got != "["+string(body)+"]" {
		t.Fatalf("list %d %s", code, got)
	}
	// A write changes the order: from then on it is served as the simulator holds it.
	if code, got, _ := call(t, "PUT", api+"/orders/41", "ck_s1", "cs_s1", `{"status":"completed"}`); code != 200 || !strings.Contains(got, `"status":"completed"`) {
		t.Fatalf("PUT %d %s", code, got)
	}
	if _, got, _ := call(t, "GET", api+"/orders/41", "ck_s1", "cs_s1", ""); !strings.Contains(got, `"status":"completed"`) {
		t.Fatalf("GET after PUT %s", got)
	}
	if _, err := k.DeliverOrder("s1", "created", []byte(`{"id":"x"}`)); err == nil {
		t.Fatal("an order without a numeric id was stored")
	}
	// Any body can be signed, stored or not.
	junk := k.SignedDelivery("s1", "order.updated", []byte("<html>"))
	if string(junk.Body) != "<html>" || junk.Header.Get("X-WC-Webhook-Event") != "updated" || junk.Header.Get("X-WC-Webhook-Signature") == "" {
		t.Fatalf("junk delivery %v", junk)
	}
}
