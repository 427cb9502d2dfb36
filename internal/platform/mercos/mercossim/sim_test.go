package mercossim

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

func TestKit(t *testing.T) {
	k := NewKit()
	if _, err := k.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	st, err := k.NewStore("store1", 600)
	if err != nil {
		t.Fatal(err)
	}
	if st.Settings["rate_limit_per_min"] != "600" || st.Secrets["company_token"] == "" {
		t.Fatalf("store %+v", st)
	}
	p, err := k.NewProduct("store1", "SKU1", 4, decimal.RequireFromString("9.90"))
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64
	k.ObserveStock(func(_ string, _ platformsim.Product, stock int64, _ time.Time) { seen = append(seen, stock) })
	if n, ok := k.Stock("store1", p); !ok || n != 4 {
		t.Fatalf("stock %d %v", n, ok)
	}
	req, _ := http.NewRequest(http.MethodGet, st.Settings["base_url"]+"/v1/produtos?alterado_apos=2000-01-01T00:00:00", nil)
	req.Header.Set("ApplicationToken", "wrong")
	req.Header.Set("CompanyToken", st.Secrets["company_token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong application token: HTTP %d", resp.StatusCode)
	}
	if c := k.Calls("store1"); c.Total != 1 || c.Writes != 0 {
		t.Fatalf("calls %+v", c)
	}
}

// POST /v1/faturamento validates its documented required fields and answers 412 with
// erros naming them; a valid one answers 201 with MeusPedidosID and bills the order.
func TestInvoiceValidation(t *testing.T) {
	k := NewKit()
	if _, err := k.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	st, err := k.NewStore("store1", 6000)
	if err != nil {
		t.Fatal(err)
	}
	k.Server.AddOrder("store1", map[string]any{"id": 5, "status": "2", "total": 50, "itens": []any{}})
	post := func(body string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, st.Settings["base_url"]+"/v1/faturamento", strings.NewReader(body))
		req.Header.Set("ApplicationToken", st.Secrets["application_token"])
		req.Header.Set("CompanyToken", st.Secrets["company_token"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("MeusPedidosID")
	}
	tests := []struct {
		body, want string
		code       int
	}{
		{`{"pedido_id":5,"data_faturamento":"2025-03-11"}`, "valor_faturado", 412},
		{`{"pedido_id":5,"valor_faturado":10.123,"data_faturamento":"2025-03-11"}`, "valor_faturado", 412},
		{`{"pedido_id":5,"valor_faturado":10,"data_faturamento":"11/03/2025"}`, "data_faturamento", 412},
		{`{"valor_faturado":10,"data_faturamento":"2025-03-11"}`, "pedido_id", 412},
		{`{"pedido_id":6,"valor_faturado":10,"data_faturamento":"2025-03-11"}`, "Pedido não encontrado", 412},
		{`{"pedido_id":5,"valor_faturado":20,"data_faturamento":"2025-03-11","numero_nf":"77"}`, "", 201},
	}
	for _, tt := range tests {
		code, body, id := post(tt.body)
		if code != tt.code || !strings.Contains(body, tt.want) || (code == 201) != (id != "") {
			t.Fatalf("%s: HTTP %d %s id %q", tt.body, code, body, id)
		}
	}
	if o, _ := k.Server.Order("store1", 5); o["status_faturamento"] != "1" {
		t.Fatalf("20 of 50 billed: status_faturamento %v", o["status_faturamento"])
	}
	if code, _, _ := post(`{"pedido_id":5,"valor_faturado":30,"data_faturamento":"2025-03-12"}`); code != 201 {
		t.Fatalf("second invoice HTTP %d", code)
	}
	if o, _ := k.Server.Order("store1", 5); o["status_faturamento"] != "2" {
		t.Fatalf("fully billed: status_faturamento %v", o["status_faturamento"])
	}
}
