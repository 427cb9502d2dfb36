// Package storetest is the contract suite every store.Store implementation must pass.
// Implementations call Run from their own tests with a constructor of fresh stores.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// Run runs the whole contract against stores made by newStore. Each group gets a fresh
// store, so implementations may back it with a new file or table per call.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	groups := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Tenants", testTenants},
		{"Connections", testConnections},
		{"SKURoundTrip", testSKURoundTrip},
		{"SKUOptimisticWrites", testSKUOptimisticWrites},
		{"SKURace", testSKURace},
		{"SKUManyInOneCall", testSKUMany},
		{"Mappings", testMappings},
		{"DesiredAndPushed", testDesiredAndPushed},
		{"DesiredMany", testDesiredMany},
		{"Idempotency", testIdempotency},
		{"IdempotencyExpiry", testIdempotencyExpiry},
		{"IdempotencyRace", testIdempotencyRace},
		{"IdempotencyLease", testIdempotencyLease},
		{"BadCursors", testBadCursors},
		{"Secrets", testSecrets},
		{"CustomerRoundTrip", testCustomerRoundTrip},
		{"CustomerOptimisticWrites", testCustomerOptimisticWrites},
		{"CustomerLinks", testCustomerLinks},
		{"Deliveries", testDeliveries},
		{"DeliveryRace", testDeliveryRace},
		{"UnprocessedDeliveries", testUnprocessedDeliveries},
		{"OrderOptimisticWrites", testOrderOptimisticWrites},
		{"OrderRace", testOrderRace},
		{"ListOrders", testListOrders},
		{"PurchaseNeeds", testPurchaseNeeds},
		{"Cursors", testCursors},
		{"JobRoundTrip", testJobRoundTrip},
		{"JobOptimisticWrites", testJobOptimisticWrites},
		{"JobRace", testJobRace},
		{"JobTenants", testJobTenants},
		{"ListJobs", testListJobs},
		{"ListSKUs", testListSKUs},
		{"ListCustomers", testListCustomers},
		{"OperatorKeys", testOperatorKeys},
		{"JobKeysFixed", testJobKeysFixed},
		{"ListJobsMany", testListJobsMany},
		{"HistoryExpires", func(t *testing.T, s store.Store) { testHistoryExpires(t, s, o.expire) }},
		{"DeadLetterRoundTrip", testDeadLetterRoundTrip},
		{"DeadLetterListing", testDeadLetterListing},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			if why := o.skipReason(g.name); why != "" {
				t.Skip(why)
			}
			g.run(t, newStore(t))
		})
	}
}

// ctx returns a context bounded well within the test timeout, so a hung backend fails
// one test instead of the whole run.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// sameJSON compares two values by their JSON encoding. That is the right equality for
// these aggregates: decimal.Decimal values equal by value encode identically ("19.9"
// whether stored as 19.90 or 19.9) while DeepEqual would compare coefficients, and a
// time that came back in another zone encodes a different offset, so UTC is checked too.
func sameJSON(t *testing.T, what string, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode want: %v", what, err)
	}
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encode got: %v", what, err)
	}
	if string(w) != string(g) {
		t.Errorf("%s round trip differs:\nwant %s\ngot  %s", what, w, g)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantUTC(t *testing.T, what string, ts time.Time) {
	t.Helper()
	if ts.Location() != time.UTC {
		t.Errorf("%s: time %v is in %v, want UTC", what, ts, ts.Location())
	}
}
