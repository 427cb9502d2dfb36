package merchantpro

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
)

// TestKitEndToEnd drives the connector through the Kit as the bench does: the store's
// settings and secrets come from NewStore, 500 products from NewProduct, and every
// write lands with no 429 and one write per product.
func TestKitEndToEnd(t *testing.T) {
	k := merchantprosim.NewKit()
	if _, err := k.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	st, err := k.NewStore("bench1", 600_000)
	if err != nil {
		t.Fatal(err)
	}
	secrets := &memSecrets{data: map[string]map[string]string{"ref": st.Secrets}}
	conn := domain.Connection{ID: "c1", Tenant: "t", Platform: Name, Settings: st.Settings, SecretRef: "ref", Currency: "RON"}
	c := New(secrets, Options{})
	var ups []platform.Update
	for i := range 500 {
		p, err := k.NewProduct("bench1", "SKU"+itoa(i), 0, decimal.NewFromInt(10))
		if err != nil {
			t.Fatal(err)
		}
		ups = append(ups, platform.Update{Target: platform.Target{SKU: "SKU" + itoa(i), ProductID: p.ProductID}, Stock: i64(int64(i + 1))})
	}
	for lo := 0; lo < len(ups); lo += 50 {
		for i, err := range c.Push(context.Background(), conn, ups[lo:lo+50]) {
			if err != nil {
				t.Fatalf("update %d: %v", lo+i, err)
			}
		}
	}
	calls := k.Calls("bench1")
	if calls.Writes != 500 || calls.RateLimited != 0 {
		t.Fatalf("calls %+v", calls)
	}
	if n, _ := k.Stock("bench1", platformSimProduct(ups[499].ProductID)); n != 500 {
		t.Fatalf("last stock %d", n)
	}
}
