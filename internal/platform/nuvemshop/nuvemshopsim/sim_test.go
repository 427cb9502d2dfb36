package nuvemshopsim

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func start(t *testing.T) (*Server, string) {
	t.Helper()
	s := New(Options{})
	s.AddStore("1", StoreConfig{AccessToken: "t1"})
	s.AddStore("2", StoreConfig{AccessToken: "t2", Bucket: 2, PerSec: 0.001})
	base, err := s.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, BaseURL(base)
}

func call(t *testing.T, method, u, token, ua, body string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authentication", "bearer "+token)
	}
	req.Header.Set("User-Agent", ua)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestStoresAuthAndLimits(t *testing.T) {
	s, api := start(t)
	if err := s.AddProduct("1", "10", "100", "A", 3, decimal.RequireFromString("9.90")); err != nil {
		t.Fatal(err)
	}
	ua := "Sim tests (dev@example.com)"
	if code, body, h := call(t, http.MethodGet, api+"/1/products/10", "t1", ua, ""); code != 200 || !strings.Contains(body, `"stock":3`) || h.Get("x-rate-limit-limit") != "40" {
		t.Fatalf("get: %d %s %v", code, body, h)
	}
	if code, body, _ := call(t, http.MethodGet, api+"/2/products/10", "t1", ua, ""); code != 401 || !strings.Contains(body, "Invalid access token") {
		t.Fatalf("token of store 1 on store 2: %d %s", code, body)
	}
	if code, _, _ := call(t, http.MethodGet, api+"/1/products/10", "", ua, ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code, body, _ := call(t, http.MethodGet, api+"/1/products/10", "t1", "", ""); code != 400 || !strings.Contains(body, "User-Agent") {
		t.Fatalf("no user agent: %d %s", code, body)
	}
	// Store 2: a bucket of 2 that hardly drains (the refused token above poured one in).
	for i := range 1 {
		if code, _, _ := call(t, http.MethodGet, api+"/2/products", "t2", ua, ""); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	code, body, h := call(t, http.MethodGet, api+"/2/products", "t2", ua, "")
	if code != 429 || h.Get("x-rate-limit-remaining") != "0" || h.Get("x-rate-limit-reset") == "" || !strings.Contains(body, `"code":429`) {
		t.Fatalf("over the bucket: %d %s %v", code, body, h)
	}
	if c := s.Calls("2"); c.RateLimited != 1 || c.Total != 3 {
		t.Fatalf("store 2 calls %+v", c)
	}
	if c := s.Calls("1"); c.RateLimited != 0 {
		t.Fatalf("store 1 throttled by store 2's traffic: %+v", c)
	}
}

func TestStockPriceBatch(t *testing.T) {
	s, api := start(t)
	_ = s.AddProduct("1", "10", "100", "A", 3, decimal.RequireFromString("9.90"))
	ua := "Sim tests (dev@example.com)"
	body := `[{"id":10,"variants":[{"id":100,"price":12.5,"inventory_levels":[{"stock":8}]},{"id":101,"price":1}]}]`
	code, out, _ := call(t, http.MethodPatch, api+"/1/products/stock-price", "t1", ua, body)
	if code != 200 || out != `[{"id":10,"variants":[{"id":100,"success":true},{"id":101,"success":false}]}]` {
		t.Fatalf("patch: %d %s", code, out)
	}
	if v, _ := s.Variant("1", "100"); *v.Stock != 8 || v.Price.StringFixed(2) != "12.50" {
		t.Fatalf("variant %+v", v)
	}
	var many strings.Builder
	many.WriteString(`[{"id":10,"variants":[`)
	for i := range 51 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`{"id":100,"price":1}`)
	}
	many.WriteString(`]}]`)
	if code, out, _ := call(t, http.MethodPatch, api+"/1/products/stock-price", "t1", ua, many.String()); code != 422 || !strings.Contains(out, "Too many variants") {
		t.Fatalf("51 variants: %d %s", code, out)
	}
	if code, out, _ := call(t, http.MethodPatch, api+"/1/products/stock-price", "t1", ua, `[{"id":10,"variants":[{"id":100,"price":"abc"}]}]`); code != 422 || !strings.Contains(out, "must be a number") {
		t.Fatalf("bad price: %d %s", code, out)
	}
	if c := s.Calls("1"); c.Writes != 3 {
		t.Fatalf("writes %d, want 3 (a batch counts once)", c.Writes)
	}
}

func TestKit(t *testing.T) {
	k := NewKit()
	if _, err := k.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	st, err := k.NewStore("store1", 120)
	if err != nil {
		t.Fatal(err)
	}
	if st.Settings["rate_limit_per_sec"] != "2" || st.Settings["rate_limit_bucket"] != "40" || st.Secrets["access_token"] == "" {
		t.Fatalf("store %+v", st)
	}
	p, err := k.NewProduct("store1", "SKU1", 7, decimal.RequireFromString("3"))
	if err != nil || p.VariantID == "" {
		t.Fatalf("product %+v %v", p, err)
	}
	if n, ok := k.Stock("store1", p); !ok || n != 7 {
		t.Fatalf("stock %d %v", n, ok)
	}
}
