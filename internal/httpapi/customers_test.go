package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform/mercos/mercossim"
	"github.com/ponte-hub/ponte/internal/store"
)

// TestCustomerReachesMercos posts an ERP customer through the HTTP API with the workers
// running and finds it on the simulated Mercos company, then updates it in place.
func TestCustomerReachesMercos(t *testing.T) {
	ctx := context.Background()
	hub, err := app.OpenEmbedded(ctx, t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Close() })
	kit := mercossim.NewKit()
	if _, err := kit.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kit.Close)
	ms, err := kit.NewStore("m1", 6000)
	if err != nil {
		t.Fatal(err)
	}
	const key, conn = "crm-erp-key-00000000000001", "crm-mercos-1"
	err = hub.ApplySetup(ctx, app.Setup{
		Tenants: []app.TenantSetup{{ID: "crm", Name: "CRM", APIKey: key, Currency: "BRL"}},
		Connections: []domain.Connection{{ID: conn, Tenant: "crm", Platform: "mercos", Enabled: true, SecretRef: conn,
			Currency: "BRL", Settings: ms.Settings}},
		Secrets: map[string]map[string]string{conn: ms.Secrets},
	})
	if err != nil {
		t.Fatalf("apply setup: %v", err)
	}
	h := hub.API.Handler()
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); hub.RunWorkers(wctx, app.DefaultWorkers) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	customer := func(version int, trade string) string {
		return fmt.Sprintf(`{"type":"customer","customer_id":"C-1","version":%d,"name":"Maria Souza",
			"company_name":"Mercearia Boa Vista LTDA","trade_name":%q,"document":"12.345.678/0001-95",
			"email":"compras@boavista.com.br","phones":["(47) 3333-4444","(47) 99999-0000"],
			"address":{"street":"Rua XV de Novembro","number":"10","complement":"sala 2","neighborhood":"Centro",
			"city":"Blumenau","state":"sc","postal_code":"89010-000","country":"BR"}}`, version, trade)
	}
	// waitLink waits until the hub records that Mercos has the version.
	waitLink := func(version domain.Version) store.CustomerLink {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			l, err := hub.Store.GetCustomerLink(ctx, "crm", conn, "C-1")
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			if err == nil && l.PushedVersion == version {
				return l
			}
			if time.Now().After(deadline) {
				t.Fatalf("customer version %d not pushed within 20 s (link %+v, err %v)", version, l, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	res := result(t, serve(h, req{Path: "/v1/erp/changes", Key: key, Body: batch(customer(3, "Boa Vista"))}))
	if res.Accepted != 1 || len(res.Rejected) != 0 {
		t.Fatalf("post: %+v", res)
	}
	l := waitLink(3)
	id, err := strconv.ParseInt(l.PlatformID, 10, 64)
	if err != nil {
		t.Fatalf("platform id %q: %v", l.PlatformID, err)
	}
	f, ok := kit.Server.Customer("m1", id)
	if !ok {
		t.Fatalf("client %d not on Mercos", id)
	}
	want := map[string]string{"razao_social": "Mercearia Boa Vista LTDA", "nome_fantasia": "Boa Vista", "cnpj": "12345678000195",
		"tipo": "J", "rua": "Rua XV de Novembro", "numero": "10", "complemento": "sala 2", "bairro": "Centro",
		"cidade": "Blumenau", "estado": "SC", "cep": "89010000"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %v, want %q", k, f[k], v)
		}
	}
	if got := fmt.Sprint(f["emails"]); got != "[map[email:compras@boavista.com.br]]" {
		t.Errorf("emails %s", got)
	}
	if got := fmt.Sprint(f["telefones"]); got != "[map[numero:(47) 3333-4444] map[numero:(47) 99999-0000]]" {
		t.Errorf("telefones %s", got)
	}

	// An older version is rejected naming the field; a newer one updates the same client.
	res = result(t, serve(h, req{Path: "/v1/erp/changes", Key: key, Body: batch(customer(2, "Velho"), customer(4, "Boa Vista Atacado"))}))
	if res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Field != "version" || res.Rejected[0].CustomerID != "C-1" {
		t.Fatalf("second post: %+v", res)
	}
	if l2 := waitLink(4); l2.PlatformID != l.PlatformID {
		t.Fatalf("update moved the client: %s -> %s", l.PlatformID, l2.PlatformID)
	}
	if f, _ := kit.Server.Customer("m1", id); f["nome_fantasia"] != "Boa Vista Atacado" {
		t.Fatalf("not updated: %v", f["nome_fantasia"])
	}
	if _, extra := kit.Server.Customer("m1", id+1); extra {
		t.Fatal("the update created a second client")
	}
}
