package mercos

import (
	"context"
	"strconv"
	"testing"

	"github.com/ponte-hub/ponte/internal/platform/mercos/mercossim"
)

// TestListCustomersPages walks /v1/clientes in pages of three, two clients changed in the
// same second (the case the cursor's ids exist for): every live client once, deleted ones
// skipped.
func TestListCustomersPages(t *testing.T) {
	e := newEnv(t, mercossim.Options{PageSize: 3}, mercossim.StoreConfig{}, nil)
	want := map[string]string{}
	for i := range 5 {
		doc := "1122233300018" + strconv.Itoa(i)
		id := e.sim.AddCustomer(testStore, map[string]any{"razao_social": "Cliente " + strconv.Itoa(i), "tipo": "J",
			"cnpj":             doc[:2] + "." + doc[2:5] + "." + doc[5:8] + "/" + doc[8:12] + "-" + doc[12:],
			"emails":           []map[string]any{{"email": "Compras" + strconv.Itoa(i) + "@Example.com"}},
			"ultima_alteracao": "2024-05-01 10:00:0" + strconv.Itoa(max(i, 1))})
		want[strconv.FormatInt(id, 10)] = doc
	}
	gone := e.sim.AddCustomer(testStore, map[string]any{"razao_social": "Excluido", "excluido": true,
		"ultima_alteracao": "2024-05-01 10:00:02"})

	got := map[string]string{}
	cursor, pages := "", 0
	for {
		page, err := e.c.ListCustomers(context.Background(), e.conn, cursor)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		for _, c := range page.Customers {
			if _, dup := got[c.PlatformID]; dup {
				t.Errorf("client %s listed twice", c.PlatformID)
			}
			got[c.PlatformID] = c.Customer.Document
			if c.Customer.Email == "" || c.Customer.CompanyName == "" {
				t.Errorf("client %s mapped without e-mail or company name: %+v", c.PlatformID, c.Customer)
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if pages < 3 {
		t.Errorf("pages = %d, want >= 3 with a page size of 3", pages)
	}
	if _, ok := got[strconv.FormatInt(gone, 10)]; ok {
		t.Error("a deleted client was listed")
	}
	delete(got, strconv.FormatInt(gone, 10))
	if len(got) != len(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	for id, doc := range want {
		if got[id] != doc {
			t.Errorf("client %s document %q, want %q (digits only)", id, got[id], doc)
		}
	}
}
