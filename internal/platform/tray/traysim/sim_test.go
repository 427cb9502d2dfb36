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
