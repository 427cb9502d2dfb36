package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

func timePtr(t time.Time) *time.Time { return &t }

// orderRecord fills every field of an accepted order offered to the ERP at `at`, with
// decimals, pointers, maps, raw JSON and text that needs escaping.
func orderRecord(tenantID, conn, platformID string, rev int64) domain.OrderRecord {
	addr := &domain.Address{Name: "José da Silva", Street: "Rua XV de Novembro", Number: "10", Complement: "sala 2",
		Neighborhood: "Centro", City: "Blumenau", State: "SC", PostalCode: "89010-000", Country: "BR", Phone: "(47) 3333-4444"}
	return domain.OrderRecord{
		ID: domain.OrderID(conn, platformID), Tenant: tenantID, ConnectionID: conn, Platform: "tray",
		PlatformID: platformID, Number: "#" + platformID, State: domain.OrderAccepted, PlatformStatus: "paid",
		PlatformUpdatedAt: at,
		Order: domain.Order{
			Tenant: tenantID, ConnectionID: conn, PlatformID: platformID, Number: "#" + platformID, PlatformStatus: "paid",
			Customer: domain.Customer{ExternalID: "cust-7", Name: "José da Silva", Document: "123.456.789-09",
				Email: "jose@example.com", Phones: []string{"+55 47 99999-0000"}, Address: addr},
			Billing: addr, Shipping: addr,
			Lines: []domain.OrderLine{
				{SKU: "SKU-1", EAN: "7891234567895", ProductID: "p1", VariantID: "v1", Name: "Café \"especial\"",
					Quantity: 2, UnitPrice: money("19.90"), Discount: money("0.00")},
				{SKU: "SKU-2", Name: "Filtro", Quantity: 1, UnitPrice: money("7.3333"), Discount: money("1.5")},
			},
			Discount: money("2.10"), ShippingCost: money("15.00"), Total: money("60.0333"),
			PaymentMethod: "pix", ShippingMethod: "sedex", PlacedAt: at, UpdatedAt: at.Add(time.Second),
		},
		CustomerID: "cust-7",
		Lines: []domain.ResolvedLine{
			{Line: 0, SKU: "SKU-1", Quantity: 2, Shortfall: 1, Supplier: "S1"},
			{Line: 1, SKU: "SKU-2", Quantity: 1},
		},
		Rejections:   []domain.OrderRejection{{Line: -1, Code: domain.RejectMissingAddress, Message: "fixed later"}},
		Reserved:     map[string]int64{"SKU-1": 2, "SKU-2": 1},
		PaymentTerms: "30/60",
		ERP:          domain.ERPHandoff{State: domain.ERPPending, OfferedAt: timePtr(at), AckedAt: timePtr(at.Add(time.Hour)), OrderNumber: "E-1", Reason: "r"},
		Fulfilment: domain.Fulfilment{
			Status: domain.FulfilShipped, Version: 1741964966535,
			Update: domain.OrderStatusUpdate{PlatformStatus: "sent", InvoiceNumber: "NF-1", InvoiceKey: "4325",
				TrackingCode: "BR123", TrackingURL: "https://track.test/BR123?a=1&b=2", Carrier: "Correios", At: at},
			WrittenStatus: "sent", WrittenAt: timePtr(at.Add(2 * time.Second)), WriteError: "429 <retry>",
		},
		Outbox:    []domain.OrderEvent{{ID: "ev-1", Type: "order.accepted", At: at, Data: json.RawMessage(`{"order":"x","qty":[1,2]}`)}},
		History:   []domain.OrderStep{{At: at, What: "accepted"}, {At: at.Add(time.Second), What: "offered to the ERP"}},
		Rev:       rev,
		CreatedAt: at,
		UpdatedAt: at.Add(time.Second),
	}
}

func testOrderOptimisticWrites(t *testing.T, s store.Store) {
	c := ctx(t)
	rec := orderRecord("ta", "c1", "1001", 1)
	_, err := s.GetOrder(c, "ta", rec.ID)
	wantErr(t, "get before create", err, store.ErrNotFound)
	noErr(t, "create", s.PutOrder(c, store.OrderWrite{Record: rec}))
	got, err := s.GetOrder(c, "ta", rec.ID)
	noErr(t, "get", err)
	sameJSON(t, "order", rec, got)
	wantUTC(t, "created_at", got.CreatedAt)
	if got.ERP.OfferedAt == nil {
		t.Fatal("offered_at lost")
	}
	wantUTC(t, "offered_at", *got.ERP.OfferedAt)

	_, err = s.GetOrder(c, "tb", rec.ID)
	wantErr(t, "get of another tenant", err, store.ErrNotFound)

	next := orderRecord("ta", "c1", "1001", 2)
	next.ERP = domain.ERPHandoff{State: domain.ERPRegistered, OrderNumber: "E-77", OfferedAt: timePtr(at)}
	noMutation := func(t *testing.T) {
		t.Helper()
		got, err := s.GetOrder(c, "ta", rec.ID)
		noErr(t, "get", err)
		sameJSON(t, "order after a refused write", rec, got)
	}
	for _, tc := range []struct {
		name      string
		w         store.OrderWrite
		conflict  bool // else a validation error
		wantStore domain.OrderRecord
	}{
		{"second create", store.OrderWrite{Record: orderRecord("ta", "c1", "1001", 1)}, true, rec},
		{"wrong expected rev", store.OrderWrite{Record: withRev(next, 4), ExpectedRev: 3}, true, rec},
		{"rev not expected+1", store.OrderWrite{Record: withRev(next, 3), ExpectedRev: 1}, false, rec},
		{"no tenant", store.OrderWrite{Record: withTenant(next, ""), ExpectedRev: 1}, false, rec},
		{"no id", store.OrderWrite{Record: func() domain.OrderRecord { r := next; r.ID = ""; return r }(), ExpectedRev: 1}, false, rec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.PutOrder(c, tc.w)
			if tc.conflict {
				wantErr(t, "put", err, store.ErrConflict)
			} else if err == nil {
				t.Error("invalid write accepted")
			}
			noMutation(t)
		})
	}
	noErr(t, "update", s.PutOrder(c, store.OrderWrite{Record: next, ExpectedRev: 1}))
	got, err = s.GetOrder(c, "ta", rec.ID)
	noErr(t, "get updated", err)
	sameJSON(t, "updated order", next, got)
	// Another tenant may hold the same id without touching this one.
	noErr(t, "create in tb", s.PutOrder(c, store.OrderWrite{Record: withTenant(orderRecord("ta", "c1", "1001", 1), "tb")}))
	got, err = s.GetOrder(c, "ta", rec.ID)
	noErr(t, "get after tb wrote", err)
	sameJSON(t, "ta's order after tb wrote", next, got)
}

func withRev(r domain.OrderRecord, rev int64) domain.OrderRecord        { r.Rev = rev; return r }
func withTenant(r domain.OrderRecord, tenant string) domain.OrderRecord { r.Tenant = tenant; return r }

func testOrderRace(t *testing.T, s store.Store) {
	c := ctx(t)
	rec := orderRecord("ta", "c1", "race", 1)
	noErr(t, "seed", s.PutOrder(c, store.OrderWrite{Record: rec}))
	winner := oneWinner(t, 20, func(g int) (string, bool) {
		r := orderRecord("ta", "c1", "race", 2)
		r.PaymentTerms = fmt.Sprintf("writer-%d", g)
		err := s.PutOrder(c, store.OrderWrite{Record: r, ExpectedRev: 1})
		if err != nil {
			wantErr(t, fmt.Sprintf("writer %d", g), err, store.ErrConflict)
		}
		return r.PaymentTerms, err == nil
	})
	got, err := s.GetOrder(c, "ta", rec.ID)
	noErr(t, "get", err)
	if got.Rev != 2 || got.PaymentTerms != winner {
		t.Errorf("stored rev %d terms %q, want 2 %q", got.Rev, got.PaymentTerms, winner)
	}
}
