package storetest

import (
	"fmt"
	"sort"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// pager is one listing call (ListSKUs or ListCustomers) returning the keys of a page
// and each key's JSON-comparable value.
type pager func(tenant, cursor string, limit int) (keys []string, vals map[string]any, next string, err error)

// pageAll walks a listing to its end, failing on a page over limit or a runaway cursor.
func pageAll(t *testing.T, list pager, tenant string, limit int) (keys []string, vals map[string]any) {
	t.Helper()
	vals = map[string]any{}
	cursor := ""
	for range 1000 {
		page, pv, next, err := list(tenant, cursor, limit)
		noErr(t, fmt.Sprintf("list %s after %q", tenant, cursor), err)
		if len(page) > limit {
			t.Errorf("page of %d over limit %d", len(page), limit)
		}
		keys = append(keys, page...)
		for k, v := range pv {
			vals[k] = v
		}
		if next == "" {
			return keys, vals
		}
		if next == cursor {
			t.Fatalf("cursor %q did not move", cursor)
		}
		cursor = next
	}
	t.Fatal("listing did not end after 1000 pages")
	return nil, nil
}

// checkListing asserts the shared paging contract on a listing whose tenant "la" holds
// want (keyed by id) and whose tenant "lb" holds other rows.
func checkListing(t *testing.T, list pager, want map[string]any) {
	wantKeys := make([]string, 0, len(want))
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(wantKeys)

	for _, limit := range []int{1, 4, 100} {
		t.Run(fmt.Sprintf("limit %d gives every row of the tenant once", limit), func(t *testing.T) {
			keys, vals := pageAll(t, list, "la", limit)
			seen := map[string]int{}
			for _, k := range keys {
				seen[k]++
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("%s listed %d times", k, n)
				}
			}
			got := make([]string, 0, len(seen))
			for k := range seen {
				got = append(got, k)
			}
			sort.Strings(got)
			sameJSON(t, "listed keys", wantKeys, got)
			for _, k := range got {
				sameJSON(t, "listed "+k, want[k], vals[k])
			}
		})
	}

	t.Run("empty tenant", func(t *testing.T) {
		keys, _, next, err := list("nobody", "", 4)
		noErr(t, "list nobody", err)
		if len(keys) != 0 || next != "" {
			t.Errorf("empty tenant listed %v, next %q", keys, next)
		}
	})

	t.Run("malformed cursor is an error", func(t *testing.T) {
		_, _, next, err := list("la", "", 4)
		noErr(t, "first page", err)
		if next == "" {
			t.Fatal("first page of a larger listing has no next cursor")
		}
		for _, bad := range []string{"not a cursor", "%%%", "{}", next[:len(next)/2]} {
			if _, _, _, err := list("la", bad, 4); err == nil {
				t.Errorf("cursor %q accepted", bad)
			}
		}
	})
}

func testListSKUs(t *testing.T, s store.Store) {
	c := ctx(t)
	var writes []store.SKUWrite
	for i := range 25 {
		writes = append(writes, store.SKUWrite{State: skuState("la", fmt.Sprintf("SKU-%02d", i), 1)})
	}
	// Ids that need escaping in key-value backends list like any other.
	writes[7].State = skuState("la", "odd#SKU%1", 1)
	for i := range 3 {
		writes = append(writes, store.SKUWrite{State: skuState("lb", fmt.Sprintf("SKU-%02d", i), 1)})
	}
	putSKUs(t, s, writes)
	// A rewrite must not list the SKU twice, and the listing shows the latest rev.
	bumped := skuState("la", "SKU-03", 2)
	bumped.Stock["main"] = domain.StockLevel{Warehouse: "main", Quantity: 1, Version: 13, UpdatedAt: at}
	putSKUs(t, s, []store.SKUWrite{{State: bumped, ExpectedRev: 1}})

	want := map[string]any{}
	for _, w := range writes[:25] {
		want[w.State.SKU] = w.State
	}
	want[bumped.SKU] = bumped
	checkListing(t, func(tenant, cursor string, limit int) ([]string, map[string]any, string, error) {
		page, next, err := s.ListSKUs(c, tenant, cursor, limit)
		keys, vals := make([]string, 0, len(page)), map[string]any{}
		for _, st := range page {
			if st.Tenant != tenant {
				return nil, nil, "", fmt.Errorf("listing %s returned %s of tenant %s", tenant, st.SKU, st.Tenant)
			}
			keys, vals[st.SKU] = append(keys, st.SKU), st
		}
		return keys, vals, next, err
	}, want)
}

func putSKUs(t *testing.T, s store.Store, writes []store.SKUWrite) {
	t.Helper()
	errs, err := s.PutSKUs(ctx(t), writes)
	noErr(t, "put skus", err)
	for i, e := range errs {
		noErr(t, "put "+writes[i].State.SKU, e)
	}
}

func testListCustomers(t *testing.T, s store.Store) {
	c := ctx(t)
	var writes []store.CustomerWrite
	for i := range 25 {
		writes = append(writes, store.CustomerWrite{Record: customer("la", fmt.Sprintf("C-%02d", i), 1, 1)})
	}
	writes[7].Record = customer("la", "odd#CUST%1", 1, 1)
	for i := range 3 {
		writes = append(writes, store.CustomerWrite{Record: customer("lb", fmt.Sprintf("C-%02d", i), 1, 1)})
	}
	bumped := customer("la", "C-03", 2, 2)
	for _, batch := range [][]store.CustomerWrite{writes, {{Record: bumped, ExpectedRev: 1}}} {
		errs, err := s.PutCustomers(c, batch)
		noErr(t, "put customers", err)
		for i, e := range errs {
			noErr(t, "put "+batch[i].Record.CustomerID, e)
		}
	}

	want := map[string]any{}
	for _, w := range writes[:25] {
		want[w.Record.CustomerID] = w.Record
	}
	want[bumped.CustomerID] = bumped
	checkListing(t, func(tenant, cursor string, limit int) ([]string, map[string]any, string, error) {
		page, next, err := s.ListCustomers(c, tenant, cursor, limit)
		keys, vals := make([]string, 0, len(page)), map[string]any{}
		for _, r := range page {
			if r.Tenant != tenant {
				return nil, nil, "", fmt.Errorf("listing %s returned %s of tenant %s", tenant, r.CustomerID, r.Tenant)
			}
			keys, vals[r.CustomerID] = append(keys, r.CustomerID), r
		}
		return keys, vals, next, err
	}, want)
}

func testOperatorKeys(t *testing.T, s store.Store) {
	c := ctx(t)
	withOp := func(tn domain.Tenant, op string) domain.Tenant { tn.OperatorKeyHash = op; return tn }
	a, b, none := withOp(tenant("oa", "api-a"), "op-a"), withOp(tenant("ob", "api-b"), "op-b"), tenant("oc", "api-c")
	for _, tn := range []domain.Tenant{a, b, none} {
		noErr(t, "put tenant "+tn.ID, s.PutTenant(c, tn))
	}

	lookup := func(t *testing.T, cases map[string]string) {
		t.Helper()
		for hash, wantID := range cases { // wantID "" means not found
			got, err := s.TenantByOperatorKeyHash(c, hash)
			if wantID == "" {
				wantErr(t, fmt.Sprintf("operator key %q", hash), err, store.ErrNotFound)
				continue
			}
			noErr(t, "operator key "+hash, err)
			if got.ID != wantID {
				t.Errorf("operator key %q reached tenant %q, want %q", hash, got.ID, wantID)
			}
		}
	}

	t.Run("finds its tenant only", func(t *testing.T) {
		got, err := s.TenantByOperatorKeyHash(c, "op-a")
		noErr(t, "op-a", err)
		sameJSON(t, "tenant by operator key", a, got)
		// An API key is not an operator key, and "" (no operator key) never matches.
		lookup(t, map[string]string{"op-b": "ob", "": "", "api-a": "", "op-x": "", "OP-A": ""})
	})

	t.Run("rotation retires the old key", func(t *testing.T) {
		noErr(t, "rotate", s.PutTenant(c, withOp(a, "op-a2")))
		lookup(t, map[string]string{"op-a": "", "op-a2": "oa", "op-b": "ob"})
		// Rotating the operator key leaves the API key alone.
		got, err := s.TenantByAPIKeyHash(c, "api-a")
		noErr(t, "api key after operator rotation", err)
		if got.ID != "oa" {
			t.Errorf("api key reached %q", got.ID)
		}
	})

	t.Run("clearing the key retires it", func(t *testing.T) {
		noErr(t, "clear", s.PutTenant(c, withOp(b, "")))
		lookup(t, map[string]string{"op-b": "", "": ""})
		noErr(t, "set again", s.PutTenant(c, b))
		lookup(t, map[string]string{"op-b": "ob"})
	})

	t.Run("a key owned by another tenant is refused", func(t *testing.T) {
		if err := s.PutTenant(c, withOp(none, "op-b")); err == nil {
			t.Fatal("PutTenant with another tenant's operator key hash succeeded")
		}
		lookup(t, map[string]string{"op-b": "ob"})
	})
}
