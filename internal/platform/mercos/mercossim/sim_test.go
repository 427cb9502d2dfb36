package mercossim

import (
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

func TestKit(t *testing.T) {
	k := NewKit()
	if _, err := k.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	st, err := k.NewStore("store1", 600)
	if err != nil {
		t.Fatal(err)
	}
	if st.Settings["rate_limit_per_min"] != "600" || st.Secrets["company_token"] == "" {
		t.Fatalf("store %+v", st)
	}
	p, err := k.NewProduct("store1", "SKU1", 4, decimal.RequireFromString("9.90"))
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64
	k.ObserveStock(func(_ string, _ platformsim.Product, stock int64, _ time.Time) { seen = append(seen, stock) })
	if n, ok := k.Stock("store1", p); !ok || n != 4 {
		t.Fatalf("stock %d %v", n, ok)
	}
	req, _ := http.NewRequest(http.MethodGet, st.Settings["base_url"]+"/v1/produtos?alterado_apos=2000-01-01T00:00:00", nil)
	req.Header.Set("ApplicationToken", "wrong")
	req.Header.Set("CompanyToken", st.Secrets["company_token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong application token: HTTP %d", resp.StatusCode)
	}
	if c := k.Calls("store1"); c.Total != 1 || c.Writes != 0 {
		t.Fatalf("calls %+v", c)
	}
}
