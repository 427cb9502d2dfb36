package traysim

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func start(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	s := New(opts)
	s.AddStore("s1", StoreConfig{ConsumerKey: "k", ConsumerSecret: "s", Code: "c"})
	s.AddStore("s2", StoreConfig{ConsumerKey: "k", ConsumerSecret: "s", Code: "c", RateLimitPerMin: 2})
	base, err := s.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, base
}

func call(t *testing.T, method, u, body string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" && !strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func token(t *testing.T, api string) string {
	t.Helper()
	code, body, _ := call(t, http.MethodPost, api+"/auth", url.Values{"consumer_key": {"k"}, "consumer_secret": {"s"}, "code": {"c"}}.Encode())
	if code != http.StatusCreated || !strings.Contains(body, `"message":"Created tokens"`) {
		t.Fatalf("auth: %d %s", code, body)
	}
	i := strings.Index(body, `"access_token":"`) + len(`"access_token":"`)
	return body[i : i+48]
}

func TestStoresAreIsolatedAndLimited(t *testing.T) {
	s, base := start(t, Options{})
	s.AddProduct("s1", "1", 3, decimal.RequireFromString("9.90"))
	api1, api2 := APIAddress(base, "s1"), APIAddress(base, "s2")
	tok := token(t, api1)
	if code, body, _ := call(t, http.MethodGet, api1+"/products/1?access_token="+tok, ""); code != 200 || !strings.Contains(body, `"stock":"3"`) {
		t.Fatalf("get: %d %s", code, body)
	}
	// A token of store 1 is unknown to store 2 (1099).
	if code, body, _ := call(t, http.MethodGet, api2+"/products/1?access_token="+tok, ""); code != 401 || !strings.Contains(body, `"error_code":1099`) {
		t.Fatalf("cross-store token: %d %s", code, body)
	}
	// Store 2 allows 2 requests a minute; the third is a 429 with Retry-After.
	call(t, http.MethodGet, api2+"/products/1", "")
	code, body, h := call(t, http.MethodGet, api2+"/products/1", "")
	if code != 429 || h.Get("Retry-After") == "" || !strings.Contains(body, "Too Many Requests") {
		t.Fatalf("limit: %d %s %v", code, body, h)
	}
	if c := s.Calls("s2"); c.Total != 3 || c.RateLimited != 1 {
		t.Fatalf("counters %+v", c)
	}
	s.ExpireAccessTokens("s1")
	if code, body, _ := call(t, http.MethodGet, api1+"/products/1?access_token="+tok, ""); code != 401 || !strings.Contains(body, `"error_code":1000`) {
		t.Fatalf("expired: %d %s", code, body)
	}
}

func TestPutAppliesAndObserves(t *testing.T) {
	var seen []int64
	s, base := start(t, Options{OnStockWrite: func(_, _, _ string, stock int64, _ time.Time) { seen = append(seen, stock) }})
	s.AddProduct("s1", "1", 3, decimal.RequireFromString("9.90"))
	api := APIAddress(base, "s1")
	tok := token(t, api)
	for _, b := range []string{`{"Product":{"stock":"8"}}`, `{"Product":{"stock":8}}`, `{"Product":{"stock":"x"}}`} {
		call(t, http.MethodPut, api+"/products/1?access_token="+tok, b)
	}
	if p, _ := s.Product("s1", "1"); p.Stock != 8 || len(seen) != 1 {
		t.Fatalf("stock %d, observer %v", p.Stock, seen)
	}
	if code, _, _ := call(t, http.MethodPut, api+"/products/2?access_token="+tok, `{"Product":{"stock":1}}`); code != 404 {
		t.Fatalf("unknown product: %d", code)
	}
	if n := len(s.Puts("s1")); n != 4 {
		t.Fatalf("recorded %d puts", n)
	}
}

func TestFaults(t *testing.T) {
	s, base := start(t, Options{})
	api := APIAddress(base, "s1")
	s.InjectFault("s1", Fault{Kind: FaultServerError, Count: 2})
	s.InjectFault("s1", Fault{Kind: FaultRateLimit, RetryAfter: 5 * time.Second})
	for _, want := range []int{500, 500, 429, 401} {
		if code, _, _ := call(t, http.MethodGet, api+"/products/1", ""); code != want {
			t.Fatalf("got %d, want %d", code, want)
		}
	}
	s.InjectFault("s1", Fault{Kind: FaultTruncated})
	resp, err := http.Get(api + "/products/1")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("truncated body read without error")
	}
}

func TestOrderListAndInvoices(t *testing.T) {
	s, base := start(t, Options{})
	api := APIAddress(base, "s1")
	for _, o := range []string{
		`{"Order":{"id":"7","modified":"2026-01-02 10:00:00","total":"10.00","Customer":{"name":"x"},"ProductsSold":[{"ProductsSold":{"id":"70"}}]}}`,
		`{"Order":{"id":"8","modified":"2026-01-01 09:00:00","total":"20.00"}}`,
		`{"Order":{"id":"9","modified":"2025-12-31 23:00:00","total":"30.00"}}`,
	} {
		if err := s.AddOrder("s1", []byte(o)); err != nil {
			t.Fatal(err)
		}
	}
	tok := token(t, api)
	code, body, _ := call(t, http.MethodGet, api+"/orders?modified=2026-01-01,2026-01-02&sort=modified_asc&access_token="+tok, "")
	if code != 200 || strings.Index(body, `"id":"8"`) > strings.Index(body, `"id":"7"`) || strings.Contains(body, `"id":"9"`) ||
		strings.Contains(body, `"Customer"`) || !strings.Contains(body, `"ProductsSold":[{"id":"70"}]`) || !strings.Contains(body, `"total":2`) {
		t.Fatalf("list: %d %s", code, body)
	}
	for _, q := range []string{"modified=yesterday", "sort=total_asc", "limit=x"} {
		if code, _, _ := call(t, http.MethodGet, api+"/orders?"+q+"&access_token="+tok, ""); code != 400 {
			t.Fatalf("%s: %d, want 400", q, code)
		}
	}
	if code, body, _ := call(t, http.MethodPost, api+"/orders/7/invoices?access_token="+tok, `{"number":"1","serie":"1","value":"10.00"}`); code != 400 || !strings.Contains(body, "issue_date") {
		t.Fatalf("invoice without issue_date: %d %s", code, body)
	}
	code, body, _ = call(t, http.MethodPost, api+"/orders/7/invoices?access_token="+tok, `{"issue_date":"2026-01-03","number":"1","serie":"1","value":"10.00"}`)
	if code != 201 || !strings.Contains(body, `"message":"Created"`) || len(s.Invoices("s1", "7")) != 1 {
		t.Fatalf("invoice: %d %s", code, body)
	}
	if _, body, _ := call(t, http.MethodGet, api+"/orders/7/complete?access_token="+tok, ""); !strings.Contains(body, `"has_invoice":"1"`) {
		t.Fatalf("complete after invoice: %s", body)
	}
	s.InvalidateAccessTokens("s1")
	if code, body, _ := call(t, http.MethodGet, api+"/orders?access_token="+tok, ""); code != 401 || !strings.Contains(body, `"error_code":1099`) {
		t.Fatalf("invalidated token: %d %s", code, body)
	}
}
