package woocommerce

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

// The Kit's stores are reachable with exactly the settings and secrets it hands out,
// as the demo and the bench use them.
func TestKitEndToEnd(t *testing.T) {
	k := woocommercesim.NewKit()
	if _, err := k.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	var mu sync.Mutex
	seen := map[string]int64{}
	k.ObserveStock(func(store string, p platformsim.Product, stock int64, _ time.Time) {
		mu.Lock()
		seen[store+"/"+p.ProductID] = stock
		mu.Unlock()
	})
	secrets := &memSecrets{data: map[string]map[string]string{}}
	c := New(secrets, Options{})
	for _, store := range []string{"s1", "s2"} {
		st, err := k.NewStore(store, 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Settings["rate_limit_per_min"] != strconv.Itoa(DefaultRateLimitPerMin) {
			t.Fatalf("settings %v", st.Settings)
		}
		secrets.data["ref-"+store] = st.Secrets
		conn := domain.Connection{ID: "c-" + store, Tenant: "t", Platform: Name, Settings: st.Settings, SecretRef: "ref-" + store, Currency: "BRL"}
		var ups []platform.Update
		var prods []platformsim.Product
		for i := range 150 {
			p, err := k.NewProduct(store, "SKU"+strconv.Itoa(i), 1, dec("10"))
			if err != nil {
				t.Fatal(err)
			}
			prods = append(prods, p)
			ups = append(ups, platform.Update{Target: platform.Target{SKU: "SKU" + strconv.Itoa(i), ProductID: p.ProductID}, Stock: i64(int64(i + 2))})
		}
		for i, err := range c.Push(context.Background(), conn, ups) {
			if err != nil {
				t.Fatalf("%s update %d: %v", store, i, err)
			}
		}
		for i, p := range prods {
			if n, ok := k.Stock(store, p); !ok || n != int64(i+2) {
				t.Fatalf("%s product %s: stock %d %v", store, p.ProductID, n, ok)
			}
		}
		if calls := k.Calls(store); calls.Writes != 2 || calls.RateLimited != 0 {
			t.Fatalf("%s calls %+v", store, calls)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 300 {
		t.Fatalf("observer saw %d stock writes", len(seen))
	}
}

// A raw order body delivered through the Kit verifies with the secrets the Kit hands
// out and reads the same as the order fetched back from the store; a signed body that
// does not parse is unparseable (kept by the hub), not a signature failure.
func TestKitDeliversRawOrders(t *testing.T) {
	k := woocommercesim.NewKit()
	if _, err := k.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	st, err := k.NewStore("s1", 0)
	if err != nil {
		t.Fatal(err)
	}
	secrets := &memSecrets{data: map[string]map[string]string{"ref": st.Secrets}}
	conn := domain.Connection{ID: "c1", Tenant: "t", Platform: Name, Settings: st.Settings, SecretRef: "ref", Currency: "BRL"}
	c := New(secrets, Options{})
	body, err := os.ReadFile(filepath.Join("testdata", "order_tax_exclusive.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.DeliverOrder("s1", "created", body)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := c.VerifyWebhook(ctx(t), conn, platform.WebhookRequest{Header: d.Header, Query: d.Query, Body: d.Body})
	if err != nil {
		t.Fatal(err)
	}
	fetched, err := c.FetchOrder(ctx(t), conn, ev.ResourceID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Order == nil || !reflect.DeepEqual(*ev.Order, fetched) || ev.Order.CheckTotal() != "" {
		t.Fatalf("delivered %+v\nfetched %+v", ev.Order, fetched)
	}
	bad := k.SignedDelivery("s1", "order.updated", []byte(`{"id":1041,"date_created_gmt":"2026-01-14T15:05:11","total":"33,66"}`))
	_, err = c.VerifyWebhook(ctx(t), conn, platform.WebhookRequest{Header: bad.Header, Query: bad.Query, Body: bad.Body})
	var ue *platform.UnparseableError
	if !errors.As(err, &ue) || ue.Field != "total" {
		t.Fatalf("got %v, want an unparseable total", err)
	}
}
