package dynamodb_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
	ddbstore "github.com/ponte-hub/ponte/internal/store/dynamodb"
)

// TestListOrdersCursor: a cursor only moves within the caller's listing. One taken from
// tenant ta resumes ta's listing but names no key of tb, and anything that is not one of
// our cursors (or one from the other listing mode) is refused rather than read as a start.
func TestListOrdersCursor(t *testing.T) {
	c, endpoint := client(t)
	t.Logf("DynamoDB API at %s (%s)", endpoint, serverName(t, endpoint))
	s := ddbstore.New(c, freshTable(t, c))
	ctx := context.Background()
	at := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, tenant := range []string{"ta", "tb"} {
		for i := range 3 {
			off := at.Add(time.Duration(i) * time.Second)
			r := domain.OrderRecord{Tenant: tenant, ID: fmt.Sprintf("o%d", i), Rev: 1, State: domain.OrderAccepted,
				ERP: domain.ERPHandoff{State: domain.ERPPending, OfferedAt: &off}}
			if err := s.PutOrder(ctx, store.OrderWrite{Record: r}); err != nil {
				t.Fatal(err)
			}
		}
	}
	pending := store.OrderFilter{ERPState: domain.ERPPending}
	_, byID, err := s.ListOrders(ctx, "ta", store.OrderFilter{}, "", 1)
	if err != nil || byID == "" {
		t.Fatalf("first page by id: next %q, %v", byID, err)
	}
	_, byERP, err := s.ListOrders(ctx, "ta", pending, "", 1)
	if err != nil || byERP == "" {
		t.Fatalf("first page by erp: next %q, %v", byERP, err)
	}

	for _, tc := range []struct {
		name    string
		tenant  string
		f       store.OrderFilter
		cursor  string
		wantErr bool
		wantIDs string
	}{
		{"resume by id", "ta", store.OrderFilter{}, byID, false, "[o1 o2]"},
		{"resume by erp", "ta", pending, byERP, false, "[o1 o2]"},
		{"ta's cursor on tb stays in tb", "tb", store.OrderFilter{}, byID, false, "[o1 o2]"},
		{"erp cursor listing by id", "ta", store.OrderFilter{}, byERP, true, ""},
		{"id cursor listing by erp", "ta", pending, byID, true, ""},
		{"not base64", "ta", store.OrderFilter{}, "%%%", true, ""},
		{"not ours", "ta", store.OrderFilter{}, base64.RawURLEncoding.EncodeToString([]byte(`{"s":"STATE"}`)), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := s.ListOrders(ctx, tc.tenant, tc.f, tc.cursor, 10)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("cursor accepted, listed %d orders", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				if r.Tenant != tc.tenant {
					t.Errorf("order %s of tenant %s listed for %s", r.ID, r.Tenant, tc.tenant)
				}
				ids = append(ids, r.ID)
			}
			if fmt.Sprint(ids) != tc.wantIDs {
				t.Errorf("got %v, want %s", ids, tc.wantIDs)
			}
		})
	}
	if _, _, err := s.ListOrders(ctx, "ta", store.OrderFilter{}, "", 0); err == nil {
		t.Error("limit 0 accepted")
	}
}
