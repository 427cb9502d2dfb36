package storetest

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// testBadCursors: every listing refuses a cursor it did not give out with ErrBadCursor,
// which the API answers 400 naming the parameter (never a 503 "store unavailable").
func testBadCursors(t *testing.T, s store.Store) {
	c := ctx(t)
	var writes []store.SKUWrite
	for _, sku := range []string{"CUR-1", "CUR-2", "CUR-3"} {
		writes = append(writes, store.SKUWrite{State: domain.SKUState{Tenant: "acme", SKU: sku, Rev: 1}})
	}
	errs, err := s.PutSKUs(c, writes)
	noErr(t, "put skus", err)
	for i, e := range errs {
		noErr(t, "put "+writes[i].State.SKU, e)
	}
	_, skuCursor, err := s.ListSKUs(c, "acme", "", 1)
	noErr(t, "first page", err)
	if skuCursor == "" {
		t.Fatal("a one-SKU page of three SKUs gave no cursor")
	}

	listings := []struct {
		name string
		list func(ctx context.Context, cursor string) error
	}{
		{"skus", func(ctx context.Context, cursor string) error {
			_, _, err := s.ListSKUs(ctx, "acme", cursor, 10)
			return err
		}},
		{"customers", func(ctx context.Context, cursor string) error {
			_, _, err := s.ListCustomers(ctx, "acme", cursor, 10)
			return err
		}},
		{"orders", func(ctx context.Context, cursor string) error {
			_, _, err := s.ListOrders(ctx, "acme", store.OrderFilter{}, cursor, 10)
			return err
		}},
		{"orders pending for the ERP", func(ctx context.Context, cursor string) error {
			_, _, err := s.ListOrders(ctx, "acme", store.OrderFilter{ERPState: domain.ERPPending}, cursor, 10)
			return err
		}},
	}
	cursors := map[string]string{
		"not base64":          "!!not a cursor!!",
		"base64, not JSON":    base64.RawURLEncoding.EncodeToString([]byte("garbage")),
		"empty JSON":          base64.RawURLEncoding.EncodeToString([]byte("{}")),
		"JSON of other shape": base64.RawURLEncoding.EncodeToString([]byte(`[1,2,3]`)),
	}
	for _, l := range listings {
		for name, cursor := range cursors {
			t.Run(l.name+"/"+name, func(t *testing.T) {
				wantErr(t, "list", l.list(c, cursor), store.ErrBadCursor)
			})
		}
		if l.name != "skus" {
			t.Run(l.name+"/a cursor of the SKU listing", func(t *testing.T) {
				wantErr(t, "list", l.list(c, skuCursor), store.ErrBadCursor)
			})
		}
	}
}
