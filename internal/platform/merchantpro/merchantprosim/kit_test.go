package merchantprosim

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

func TestKit(t *testing.T) {
	k := NewKit()
	if _, err := k.NewStore("early", 0); err == nil {
		t.Fatal("NewStore before Start must fail")
	}
	base, err := k.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	st, err := k.NewStore("shopA", 120)
	if err != nil {
		t.Fatal(err)
	}
	if st.Settings["base_url"] != base+"/shopA" || st.Settings["rate_limit"] != "120" || st.Settings["rate_window_ms"] != "60000" ||
		st.Secrets["api_key"] == "" || st.Secrets["api_secret"] == "" || st.Secrets["webhook_secret"] == "" {
		t.Fatalf("store %+v", st)
	}
	big, _ := k.NewStore("shopC", 600_000)
	if big.Settings["rate_limit"] != "10000" || big.Settings["rate_window_ms"] != "1000" {
		t.Fatalf("bench limit %+v", big.Settings)
	}
	def, _ := k.NewStore("shopB", 0)
	if def.Settings["rate_limit"] != "4" || def.Settings["rate_window_ms"] != "1000" {
		t.Fatalf("default limit %+v", def.Settings)
	}
	p, err := k.NewProduct("shopA", "SKU-1", 9, decimal.RequireFromString("19.99"))
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64
	k.ObserveStock(func(store string, pr platformsim.Product, stock int64, _ time.Time) {
		if store == "shopA" && pr == p {
			seen = append(seen, stock)
		}
	})
	req, _ := http.NewRequest(http.MethodPatch, base+"/shopA/api/v2/products/"+p.ProductID, strings.NewReader(`{"stock":4}`))
	req.SetBasicAuth(st.Secrets["api_key"], st.Secrets["api_secret"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH %d %s", resp.StatusCode, b)
	}
	if n, ok := k.Stock("shopA", p); !ok || n != 4 || len(seen) != 1 || seen[0] != 4 {
		t.Fatalf("stock %d %v, observed %v", n, ok, seen)
	}
	if c := k.Calls("shopA"); c.Writes != 1 || c.Total != 1 || c.RateLimited != 0 {
		t.Fatalf("calls %+v", c)
	}
}

func TestSimAuthAndLimits(t *testing.T) {
	s := New(Options{RateLimit: 2, RateWindow: time.Hour, MaxFailedLogins: 1})
	s.AddStore("s1", StoreConfig{APIKey: "k", APISecret: "s"})
	base, err := s.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(user, pass string) (int, http.Header, string) {
		req, _ := http.NewRequest(http.MethodGet, base+"/s1/api/v2/products?limit=500", nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	if code, _, body := get("k", "bad"); code != 401 || !strings.Contains(body, `"error"`) {
		t.Fatalf("bad creds: %d %s", code, body)
	}
	if code, _, _ := get("k", "bad"); code != 403 {
		t.Fatalf("repeated bad creds: %d", code)
	}
	code, h, body := get("k", "s")
	if code != 429 || h.Get("Retry-After") == "" || !strings.Contains(body, "TooManyRequests") {
		t.Fatalf("third request in the window: %d %v %s", code, h, body)
	}
	if c := s.Calls("s1"); c.RateLimited != 1 || c.Total != 3 {
		t.Fatalf("calls %+v", c)
	}
}
