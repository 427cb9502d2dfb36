package ingest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

func TestDecodeCustomerItems(t *testing.T) {
	cust := func(fields string) string {
		return `{"type":"customer","version":1` + fields + `}`
	}
	tests := []struct {
		name      string
		item      string
		wantField string // "" when the item is valid
		wantErr   string
	}{
		{"person", cust(`,"customer_id":"C-1","name":"Maria"`), "", ""},
		{"company without name", cust(`,"customer_id":"C-1","company_name":"ACME LTDA"`), "", ""},
		{"all fields", cust(`,"customer_id":"C-1","name":"M","trade_name":"T","document":"12.345.678/0001-95","email":"a@b.c","phones":["1","2"],"address":{"street":"R","number":"1","complement":"c","neighborhood":"n","city":"x","state":"SC","postal_code":"89010-000","country":"BR"}`), "", ""},
		{"version as string", `{"type":"customer","customer_id":"C-1","version":"7","name":"M"}`, "", ""},
		{"null optional fields", cust(`,"customer_id":"C-1","name":"M","phones":null,"address":null,"email":null`), "", ""},
		{"missing customer_id", cust(`,"name":"M"`), "customer_id", "required"},
		{"blank customer_id", cust(`,"customer_id":" ","name":"M"`), "customer_id", "required"},
		{"customer_id with hash", cust(`,"customer_id":"C#1","name":"M"`), "customer_id", "'#'"},
		{"customer_id too long", cust(`,"customer_id":"` + strings.Repeat("x", 129) + `","name":"M"`), "customer_id", "at most"},
		{"customer_id not a string", cust(`,"customer_id":12,"name":"M"`), "customer_id", "must be string"},
		{"missing version", `{"type":"customer","customer_id":"C-1","name":"M"}`, "version", "required"},
		{"negative version", `{"type":"customer","customer_id":"C-1","version":-2,"name":"M"}`, "version", "non-negative integer"},
		{"no name nor company", cust(`,"customer_id":"C-1","trade_name":"T"`), "name", "required unless company_name"},
		{"blank name", cust(`,"customer_id":"C-1","name":"  "`), "name", "required"},
		{"name not a string", cust(`,"customer_id":"C-1","name":5`), "name", "must be string"},
		{"name too long", cust(`,"customer_id":"C-1","name":"` + strings.Repeat("n", 501) + `"`), "name", "at most"},
		{"trade name too long", cust(`,"customer_id":"C-1","name":"M","trade_name":"` + strings.Repeat("n", 501) + `"`), "trade_name", "at most"},
		{"email without at", cust(`,"customer_id":"C-1","name":"M","email":"maria.example.com"`), "email", "e-mail address"},
		{"email with space", cust(`,"customer_id":"C-1","name":"M","email":"ma ria@example.com"`), "email", "e-mail address"},
		{"email not a string", cust(`,"customer_id":"C-1","name":"M","email":true`), "email", "must be string"},
		{"document with letters", cust(`,"customer_id":"C-1","name":"M","document":"12A45"`), "document", "digits and punctuation"},
		{"document only punctuation", cust(`,"customer_id":"C-1","name":"M","document":"./-"`), "document", "digits and punctuation"},
		{"document too long", cust(`,"customer_id":"C-1","name":"M","document":"` + strings.Repeat("1", 41) + `"`), "document", "at most"},
		{"phones not an array", cust(`,"customer_id":"C-1","name":"M","phones":"4733334444"`), "phones", "array of strings"},
		{"phone not a string", cust(`,"customer_id":"C-1","name":"M","phones":["1",4733334444]`), "phones", "item 1 must be a string"},
		{"phone too long", cust(`,"customer_id":"C-1","name":"M","phones":["` + strings.Repeat("9", 41) + `"]`), "phones", "at most"},
		{"too many phones", cust(`,"customer_id":"C-1","name":"M","phones":[` + strings.Repeat(`"1",`, 20) + `"1"]`), "phones", "at most 20"},
		{"address not an object", cust(`,"customer_id":"C-1","name":"M","address":"Rua XV"`), "address", "object of strings"},
		{"address field not a string", cust(`,"customer_id":"C-1","name":"M","address":{"number":10}`), "address.number", "must be a string"},
		{"address field too long", cust(`,"customer_id":"C-1","name":"M","address":{"city":"` + strings.Repeat("c", 501) + `"}`), "address.city", "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := `{"type":"stock","sku":"GOOD","version":1,"quantity":1}`
			changes, rejs, err := Decode([]byte(`{"changes":[`+good+`,`+tt.item+`]}`), "BRL")
			if err != nil {
				t.Fatalf("batch error: %v", err)
			}
			if len(changes) == 0 || changes[0].SKU != "GOOD" {
				t.Fatalf("the valid item was lost: %+v", changes)
			}
			if tt.wantField == "" {
				if len(rejs) != 0 || len(changes) != 2 {
					t.Fatalf("want valid, got rejections %+v", rejs)
				}
				if c := changes[1]; c.Kind != KindCustomer || c.CustomerID != "C-1" || c.SKU != "" || c.Customer == nil {
					t.Fatalf("decoded as %+v", c)
				}
				return
			}
			if len(rejs) != 1 {
				t.Fatalf("want one rejection, got %+v", rejs)
			}
			r := rejs[0]
			if r.Index != 1 || r.Field != tt.wantField || !strings.Contains(r.Error, tt.wantErr) {
				t.Fatalf("got %+v, want index 1 field %q error containing %q", r, tt.wantField, tt.wantErr)
			}
		})
	}
}

func TestDecodeCustomerValues(t *testing.T) {
	body := `{"changes":[{"type":"customer","customer_id":" C-1 ","version":7,"name":" Maria ","company_name":"Mercearia Boa Vista LTDA",
		"trade_name":"Boa Vista","document":"12.345.678/0001-95","email":" compras@boavista.com.br ","phones":[" (47) 3333-4444 ",""],
		"address":{"street":"Rua XV","number":"10","complement":"sala 2","neighborhood":"Centro","city":"Blumenau","state":"SC","postal_code":"89010-000","country":"BR"}}]}`
	changes, rejs, err := Decode([]byte(body), "BRL")
	if err != nil || len(rejs) != 0 {
		t.Fatalf("err %v rejs %+v", err, rejs)
	}
	c := changes[0]
	want := domain.Customer{ExternalID: "C-1", Name: "Maria", CompanyName: "Mercearia Boa Vista LTDA", TradeName: "Boa Vista",
		Document: "12.345.678/0001-95", Email: "compras@boavista.com.br", Phones: []string{"(47) 3333-4444"},
		Address: &domain.Address{Street: "Rua XV", Number: "10", Complement: "sala 2", Neighborhood: "Centro", City: "Blumenau",
			State: "SC", PostalCode: "89010-000", Country: "BR"}}
	if c.CustomerID != "C-1" || c.Version != 7 || !reflect.DeepEqual(*c.Customer, want) {
		t.Fatalf("decoded as %+v / %+v", c, c.Customer)
	}
}

func TestApplyCustomers(t *testing.T) {
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sender := &recordingSender{}
	svc := &Service{Store: st, Changes: sender, Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	cust := func(id string, version int, name string) string {
		return `{"type":"customer","customer_id":"` + id + `","version":` + itoa(version) + `,"name":"` + name + `"}`
	}
	steps := []struct {
		name                          string
		tenant                        string
		changes                       []string
		accepted, duplicates, rejects int
		rejectField                   string
		wantQueued                    []SKUMessage
	}{
		{"new customer needs no product", "t1", []string{cust("C-1", 5, "v5")}, 1, 0, 0, "",
			[]SKUMessage{{Tenant: "t1", Kind: "customer", Customer: "C-1", Rev: 1}}},
		{"newer version applies", "t1", []string{cust("C-1", 7, "v7")}, 1, 0, 0, "",
			[]SKUMessage{{Tenant: "t1", Kind: "customer", Customer: "C-1", Rev: 2}}},
		{"equal version is a duplicate and re-queues", "t1", []string{cust("C-1", 7, "other")}, 1, 1, 0, "",
			[]SKUMessage{{Tenant: "t1", Kind: "customer", Customer: "C-1", Rev: 2}}},
		{"older version is rejected naming version", "t1", []string{cust("C-1", 6, "v6")}, 0, 0, 1, "version", nil},
		{"out of order in a batch keeps the newest", "t1", []string{cust("C-1", 9, "v9"), cust("C-1", 8, "v8")}, 1, 0, 1, "version",
			[]SKUMessage{{Tenant: "t1", Kind: "customer", Customer: "C-1", Rev: 3}}},
		{"mixed with a SKU batch", "t1", []string{`{"type":"product","sku":"A","version":1,"name":"a"}`, cust("C-2", 1, "two")}, 2, 0, 0, "",
			[]SKUMessage{{Tenant: "t1", SKU: "A", Rev: 1}, {Tenant: "t1", Kind: "customer", Customer: "C-2", Rev: 1}}},
		{"other tenant is separate", "t2", []string{cust("C-1", 1, "t2")}, 1, 0, 0, "",
			[]SKUMessage{{Tenant: "t2", Kind: "customer", Customer: "C-1", Rev: 1}}},
	}
	for _, s := range steps {
		before := len(sender.msgs)
		res, err := svc.Apply(ctx, s.tenant, decodeOrFail(t, `{"changes":[`+strings.Join(s.changes, ",")+`]}`))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if res.Accepted != s.accepted || res.Duplicates != s.duplicates || len(res.Rejected) != s.rejects {
			t.Fatalf("%s: got %+v", s.name, res)
		}
		if s.rejects > 0 && (res.Rejected[0].Field != s.rejectField || res.Rejected[0].CustomerID != "C-1") {
			t.Fatalf("%s: rejected %+v, want field %q", s.name, res.Rejected[0], s.rejectField)
		}
		var got []SKUMessage
		for _, m := range sender.msgs[before:] {
			var msg SKUMessage
			if err := json.Unmarshal(m.Body, &msg); err != nil {
				t.Fatal(err)
			}
			got = append(got, msg)
		}
		if !reflect.DeepEqual(got, s.wantQueued) {
			t.Fatalf("%s: queued %+v, want %+v", s.name, got, s.wantQueued)
		}
	}
	recs, err := st.GetCustomers(ctx, "t1", []string{"C-1"})
	if err != nil {
		t.Fatal(err)
	}
	if r := recs["C-1"]; r.Version != 9 || r.Customer.Name != "v9" || r.Rev != 3 {
		t.Fatalf("final record %+v", r)
	}
	if recs, _ := st.GetCustomers(ctx, "t2", []string{"C-1"}); recs["C-1"].Customer.Name != "t2" {
		t.Fatalf("tenant t2 record %+v", recs)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
