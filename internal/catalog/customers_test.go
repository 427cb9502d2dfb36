package catalog_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/catalog"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/mercos"
	"github.com/ponte-hub/ponte/internal/platform/mercos/mercossim"
	"github.com/ponte-hub/ponte/internal/store"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

// Seed 000 (TagPlus ↔ Mercos): the first sync also links Mercos clientes to the ERP's
// customers, by document then e-mail, so later ERP changes update them instead of
// creating duplicates.
func TestMercosCustomers(t *testing.T) {
	f := newFixture(t, domain.Rules{})
	st, err := storesqlite.Open(f.ctx, filepath.Join(t.TempDir(), "mercos.db"))
	must(t, err)
	t.Cleanup(func() { _ = st.Close() })
	sim := mercossim.New(mercossim.Options{RateLimitPerMin: 100000, PageSize: 2})
	sim.AddStore("m1", mercossim.StoreConfig{ApplicationToken: "app", CompanyToken: "comp"})
	base, err := sim.Start(":0")
	must(t, err)
	t.Cleanup(sim.Close)
	conn := domain.Connection{ID: "c1", Tenant: "t1", Platform: mercos.Name, Enabled: true, SecretRef: "mercos/c1", Currency: "BRL",
		Settings: map[string]string{"base_url": mercossim.APIBase(base), "rate_limit_per_min": "100000"}}
	must(t, st.PutTenant(f.ctx, domain.Tenant{ID: "t1", Name: "T1", Currency: "BRL", CreatedAt: f.clock.Now()}))
	must(t, st.PutConnection(f.ctx, conn))
	must(t, st.PutSecret(f.ctx, "mercos/c1", map[string]string{"application_token": "app", "company_token": "comp"}))
	svc := &catalog.Service{Store: st, Connectors: map[string]platform.Connector{mercos.Name: mercos.New(st, mercos.Options{})},
		Now: f.clock.Now, PageSize: 2}

	sim.AddProduct("m1", "P1", "Produto 1", 0, decimal.RequireFromString("10"))
	erp := []domain.Customer{
		{ExternalID: "E1", Name: "Loja Um", Document: "11.222.333/0001-81"},
		{ExternalID: "E2", Name: "Loja Dois", Document: "22333444000190"},
		{ExternalID: "E3", Name: "Dup A", Document: "33444555000100"},
		{ExternalID: "E4", Name: "Dup B", Document: "33.444.555/0001-00"},
		{ExternalID: "E5", Name: "Por e-mail", Email: "compras@loja5.com.br"},
	}
	var writes []store.CustomerWrite
	for _, c := range erp {
		writes = append(writes, store.CustomerWrite{Record: store.CustomerRecord{Tenant: "t1", CustomerID: c.ExternalID,
			Customer: c, Version: 1, Rev: 1, UpdatedAt: f.clock.Now()}})
	}
	errs, err := st.PutCustomers(f.ctx, writes)
	must(t, err)
	must(t, errors.Join(errs...))
	// E2 was pushed before (linked to client 900); the store also has another client with its document.
	must(t, st.PutCustomerLink(f.ctx, store.CustomerLink{Tenant: "t1", ConnectionID: "c1", CustomerID: "E2", PlatformID: "900", PushedVersion: 1}))

	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	add := func(id int64, fields map[string]any) {
		fields["id"] = id
		fields["ultima_alteracao"] = at.Format(time.DateTime)
		at = at.Add(time.Second)
		sim.AddCustomer("m1", fields)
	}
	add(101, map[string]any{"razao_social": "Loja Um Ltda", "tipo": "J", "cnpj": "11222333000181"})
	add(900, map[string]any{"razao_social": "Loja Dois", "tipo": "J", "cnpj": "22333444000190"})
	add(102, map[string]any{"razao_social": "Loja Dois Filial", "tipo": "J", "cnpj": "22.333.444/0001-90"})
	add(103, map[string]any{"razao_social": "Dup", "tipo": "J", "cnpj": "33444555000100"})
	add(104, map[string]any{"razao_social": "Loja 5", "emails": []map[string]any{{"email": "Compras@Loja5.com.br"}}})
	add(105, map[string]any{"razao_social": "Sem par", "tipo": "J", "cnpj": "99888777000166"})

	j, err := svc.Start(f.ctx, "t1", "c1")
	must(t, err)
	j, err = svc.Run(f.ctx, j)
	must(t, err)
	rep := report(t, j)
	if j.Status != store.JobDone || rep.Customers == nil {
		t.Fatalf("job %s, customers %v", j.Status, rep.Customers)
	}
	want := catalog.Customers{Checked: 6, AlreadyLinked: 1, LinkedByDocument: 1, LinkedByEmail: 1, Ambiguous: 2, Unmatched: 1}
	got := *rep.Customers
	got.AmbiguousItems, got.UnmatchedItems, got.FailedItems = nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("customers %+v\nwant      %+v", got, want)
	}
	if j.Done != 7 || rep.Products.Checked != 1 {
		t.Errorf("done %d (products %d), want 7 items handled", j.Done, rep.Products.Checked)
	}
	amb := map[string]catalog.CustomerEntry{}
	for _, e := range rep.Customers.AmbiguousItems {
		amb[e.PlatformID] = e
	}
	if e := amb["103"]; e.MatchedBy != catalog.ByDocument || !reflect.DeepEqual(e.Candidates, []string{"E3", "E4"}) || e.Document != "...0100" {
		t.Errorf("ambiguous by document = %+v", e)
	}
	if e := amb["102"]; e.MatchedBy != catalog.ByLink || !reflect.DeepEqual(e.Candidates, []string{"E2"}) {
		t.Errorf("second client for E2 = %+v", e)
	}
	if u := rep.Customers.UnmatchedItems; len(u) != 1 || u[0].PlatformID != "105" {
		t.Errorf("unmatched %+v", u)
	}
	for id, pid := range map[string]string{"E1": "101", "E2": "900", "E5": "104"} {
		l, err := st.GetCustomerLink(f.ctx, "t1", "c1", id)
		must(t, err)
		if l.PlatformID != pid {
			t.Errorf("%s linked to %s, want %s", id, l.PlatformID, pid)
		}
		if id != "E2" && l.PushedVersion != 0 {
			t.Errorf("%s linked with pushed version %d, want 0 (the next ERP change updates it)", id, l.PushedVersion)
		}
	}
	for _, id := range []string{"E3", "E4"} {
		if _, err := st.GetCustomerLink(f.ctx, "t1", "c1", id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ambiguous %s was linked (%v)", id, err)
		}
	}

	j, err = svc.Start(f.ctx, "t1", "c1")
	must(t, err)
	j, err = svc.Run(f.ctx, j)
	must(t, err)
	got = *report(t, j).Customers
	got.AmbiguousItems, got.UnmatchedItems, got.FailedItems = nil, nil, nil
	if want := (catalog.Customers{Checked: 6, AlreadyLinked: 3, Ambiguous: 2, Unmatched: 1}); !reflect.DeepEqual(got, want) {
		t.Errorf("second run customers %+v\nwant                 %+v", got, want)
	}
}
