package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// customer fills every field, with text that needs escaping.
func customer(tenantID, id string, version domain.Version, rev int64) store.CustomerRecord {
	return store.CustomerRecord{
		Tenant: tenantID, CustomerID: id, Version: version, Rev: rev, UpdatedAt: at,
		Customer: domain.Customer{
			ExternalID: id, Name: "José da Silva", CompanyName: "Mercearia \"Boa Vista\" LTDA", TradeName: "Boa Vista",
			Document: "12.345.678/0001-95", Email: "compras@boavista.com.br", Phones: []string{"(47) 3333-4444", "+55 47 99999-0000"},
			Address: &domain.Address{Street: "Rua XV de Novembro", Number: "10", Complement: "sala 2", Neighborhood: "Centro",
				City: "Blumenau", State: "SC", PostalCode: "89010-000", Country: "BR"},
		},
	}
}

func testCustomerRoundTrip(t *testing.T, s store.Store) {
	c := ctx(t)
	full := customer("ta", "C-1", 7, 1)
	bare := store.CustomerRecord{Tenant: "ta", CustomerID: "C#2", Version: 1, Rev: 1, UpdatedAt: at,
		Customer: domain.Customer{Name: "Só nome"}}
	other := customer("tb", "C-1", 3, 1) // same id, other tenant
	other.Customer.Name = "Tenant B's customer"
	errs, err := s.PutCustomers(c, []store.CustomerWrite{{Record: full}, {Record: bare}, {Record: other}})
	noErr(t, "put", err)
	for i, e := range errs {
		noErr(t, fmt.Sprintf("write %d", i), e)
	}
	for _, tc := range []struct {
		name   string
		tenant string
		ids    []string
		want   []store.CustomerRecord
	}{
		{"all fields", "ta", []string{"C-1"}, []store.CustomerRecord{full}},
		{"several with a missing one", "ta", []string{"C-1", "C-404", "C#2"}, []store.CustomerRecord{full, bare}},
		{"an id named twice", "ta", []string{"C-1", "C-1"}, []store.CustomerRecord{full}},
		{"other tenant sees its own", "tb", []string{"C-1", "C#2"}, []store.CustomerRecord{other}},
		{"unknown tenant", "tz", []string{"C-1"}, nil},
		{"empty list", "ta", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetCustomers(c, tc.tenant, tc.ids)
			noErr(t, "get", err)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d customers, want %d: %v", len(got), len(tc.want), got)
			}
			for _, w := range tc.want {
				g, ok := got[w.CustomerID]
				if !ok {
					t.Fatalf("missing %s", w.CustomerID)
				}
				sameJSON(t, "customer "+w.CustomerID, w, g)
				wantUTC(t, "updated_at", g.UpdatedAt)
			}
		})
	}
}

func testCustomerOptimisticWrites(t *testing.T, s store.Store) {
	c := ctx(t)
	rec := func(tenantID, id string, rev int64) store.CustomerRecord {
		return customer(tenantID, id, domain.Version(rev*10), rev)
	}
	errs, err := s.PutCustomers(c, []store.CustomerWrite{{Record: rec("ta", "A", 1)}, {Record: rec("ta", "B", 1)}})
	noErr(t, "seed", err)
	for i, e := range errs {
		noErr(t, fmt.Sprintf("seed %d", i), e)
	}
	a2 := rec("ta", "A", 2)
	a2.Customer.Email = "novo@boavista.com.br"
	writes := []store.CustomerWrite{
		{Record: a2, ExpectedRev: 1},                // ok
		{Record: rec("ta", "B", 1)},                 // exists: ExpectedRev 0 must fail
		{Record: rec("ta", "B", 4), ExpectedRev: 3}, // stored rev is 1
		{Record: rec("ta", "D", 3), ExpectedRev: 2}, // does not exist
		{Record: rec("ta", "E", 5)},                 // malformed: rev must be expected+1
		{Record: rec("tb", "A", 2), ExpectedRev: 1}, // tenant B has no A
		{Record: rec("ta", "F", 1)},                 // new: ok
	}
	errs, err = s.PutCustomers(c, writes)
	noErr(t, "put", err)
	if len(errs) != len(writes) {
		t.Fatalf("got %d results for %d writes", len(errs), len(writes))
	}
	for i, want := range []error{nil, store.ErrConflict, store.ErrConflict, store.ErrConflict, errAny, store.ErrConflict, nil} {
		switch want {
		case nil:
			noErr(t, fmt.Sprintf("write %d", i), errs[i])
		case errAny:
			if errs[i] == nil {
				t.Errorf("write %d: malformed write accepted", i)
			}
		default:
			wantErr(t, fmt.Sprintf("write %d", i), errs[i], want)
		}
	}
	got, err := s.GetCustomers(c, "ta", []string{"A", "B", "D", "E", "F"})
	noErr(t, "get", err)
	sameJSON(t, "A", a2, got["A"])
	sameJSON(t, "B", rec("ta", "B", 1), got["B"])
	sameJSON(t, "F", rec("ta", "F", 1), got["F"])
	for _, id := range []string{"D", "E"} {
		if _, ok := got[id]; ok {
			t.Errorf("%s was written", id)
		}
	}
	if got, _ := s.GetCustomers(c, "tb", []string{"A"}); len(got) != 0 {
		t.Errorf("tenant B got %v", got)
	}
}

// errAny marks an expected error of no particular kind.
var errAny = fmt.Errorf("any error")

func testCustomerLinks(t *testing.T, s store.Store) {
	c := ctx(t)
	link := func(tenantID, conn, id, pid string, v domain.Version, stamp time.Time) store.CustomerLink {
		return store.CustomerLink{Tenant: tenantID, ConnectionID: conn, CustomerID: id, PlatformID: pid, PushedVersion: v, PushedAt: stamp}
	}
	_, err := s.GetCustomerLink(c, "ta", "c1", "C-1")
	wantErr(t, "absent link", err, store.ErrNotFound)

	l5 := link("ta", "c1", "C-1", "101", 5, at)
	noErr(t, "put v5", s.PutCustomerLink(c, l5))
	noErr(t, "other connection", s.PutCustomerLink(c, link("ta", "c#2", "C-1", "202", 1, at)))
	noErr(t, "other tenant", s.PutCustomerLink(c, link("tb", "c1", "C-1", "303", 9, at)))

	for _, tc := range []struct {
		name   string
		put    store.CustomerLink
		target error
		want   store.CustomerLink
	}{
		{"older version is stale", link("ta", "c1", "C-1", "101", 4, at.Add(time.Hour)), store.ErrStale, l5},
		{"equal version overwrites", link("ta", "c1", "C-1", "101", 5, at.Add(time.Minute)), nil, link("ta", "c1", "C-1", "101", 5, at.Add(time.Minute))},
		{"newer version moves forward", link("ta", "c1", "C-1", "101", 8, at.Add(2*time.Minute)), nil, link("ta", "c1", "C-1", "101", 8, at.Add(2*time.Minute))},
		{"lower again is stale", link("ta", "c1", "C-1", "999", 7, at), store.ErrStale, link("ta", "c1", "C-1", "101", 8, at.Add(2*time.Minute))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.PutCustomerLink(c, tc.put)
			if tc.target == nil {
				noErr(t, "put", err)
			} else {
				wantErr(t, "put", err, tc.target)
			}
			got, err := s.GetCustomerLink(c, "ta", "c1", "C-1")
			noErr(t, "get", err)
			sameJSON(t, "link", tc.want, got)
			wantUTC(t, "pushed_at", got.PushedAt)
		})
	}
	for _, tc := range []struct{ tenant, conn, id, pid string }{{"ta", "c#2", "C-1", "202"}, {"tb", "c1", "C-1", "303"}} {
		got, err := s.GetCustomerLink(c, tc.tenant, tc.conn, tc.id)
		noErr(t, "get "+tc.tenant+"/"+tc.conn, err)
		if got.PlatformID != tc.pid {
			t.Errorf("%s/%s: platform id %q, want %q", tc.tenant, tc.conn, got.PlatformID, tc.pid)
		}
	}
	_, err = s.GetCustomerLink(c, "tc", "c1", "C-1")
	wantErr(t, "unknown tenant", err, store.ErrNotFound)
	if err := s.PutCustomerLink(c, link("", "c1", "C-1", "1", 1, at)); err == nil {
		t.Error("link without tenant accepted")
	}
}
