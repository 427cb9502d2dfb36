package mercossim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

var _ platformsim.OrderPlacer = (*Kit)(nil)

// PlaceOrder stores the order as a /v2/pedidos record (its buyer as a /v1/clientes record,
// since Mercos orders name the client by id), takes its lines from stock and returns a
// zero Delivery: Mercos sends no webhooks, the hub polls /v2/pedidos. Status is Mercos'
// code: "2" (pedido gerado) by default, "1" orçamento, "0" cancelled.
func (k *Kit) PlaceOrder(storeID string, o platformsim.SimOrder) (string, platformsim.Delivery, error) {
	st := k.Server.store(storeID)
	if st == nil {
		return "", platformsim.Delivery{}, fmt.Errorf("mercossim: no store %q", storeID)
	}
	o, err := o.Normalise(k.Server.opts.Now(), "2", true)
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("mercossim: %w", err)
	}
	// Ids far above the store's own sequence, so they never meet an AddOrder without id.
	id, delta, _ := k.orders.Place(storeID, o, 3_000_000)
	num, _ := strconv.ParseInt(id, 10, 64)
	var clientID int64
	created := o.UpdatedAt
	if prev, ok := k.Server.Order(storeID, num); ok {
		clientID, _ = prev["cliente_id"].(int64)
		if t, ok := k.Server.parseAfter(fmt.Sprint(prev["data_criacao"])); ok {
			created = t
		}
	}
	if clientID == 0 {
		clientID = k.Server.AddCustomer(storeID, cliente(o.Customer))
	}
	k.Server.AddOrder(storeID, k.pedido(num, clientID, created, o))
	k.takeStock(st, delta)
	return id, platformsim.Delivery{}, nil
}

// OrderStatus is the order's status code now ("0" once cancelled).
func (k *Kit) OrderStatus(storeID, id string) (string, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return "", false
	}
	st := k.Server.store(storeID)
	if st == nil {
		return "", false
	}
	st.data.Lock()
	defer st.data.Unlock()
	r, ok := st.orders[n]
	if !ok {
		return "", false
	}
	return fmt.Sprint(r.fields["status"]), true
}

func (k *Kit) takeStock(st *store, delta map[platformsim.Product]int64) {
	now := k.Server.opts.Now()
	for p, d := range delta {
		idStr := p.ProductID
		if p.VariantID != "" {
			idStr = p.VariantID
		}
		pid, _ := strconv.ParseInt(idStr, 10, 64)
		st.data.Lock()
		pr := st.products[pid]
		var n int64
		if pr != nil && pr.Stock != nil {
			s := pr.Stock.Add(decimal.NewFromInt(d))
			pr.Stock, pr.Alterado, n = &s, now, s.IntPart()
		}
		st.data.Unlock()
		if pr != nil && pr.Stock != nil {
			k.NotifyStock(st.id, p.ProductID, p.VariantID, n, now)
		}
	}
}

// pedido is the /v2/pedidos record for o; lines name the grid child when there is one.
func (k *Kit) pedido(id, clientID int64, created time.Time, o platformsim.SimOrder) map[string]any {
	c := o.Customer
	total := decimal.Zero
	itens := []any{}
	for i, l := range o.Lines {
		pid, _ := strconv.ParseInt(l.Product.ProductID, 10, 64)
		if l.Product.VariantID != "" {
			pid, _ = strconv.ParseInt(l.Product.VariantID, 10, 64)
		}
		sub := l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity))
		total = total.Add(sub)
		itens = append(itens, map[string]any{"id": id*100 + int64(i), "produto_id": pid, "quantidade": l.Quantity,
			"preco_tabela": jsonDec(l.UnitPrice), "preco_liquido": jsonDec(l.UnitPrice), "subtotal": jsonDec(sub),
			"excluido": false})
	}
	return map[string]any{
		"id": id, "numero": id % 100000, "cliente_id": clientID, "status": o.Status, "condicao_pagamento": "À vista",
		"forma_pagamento_id": 0, "transportadora_nome": "Correios", "nome_contato": c.Name, "itens": itens,
		"data_emissao": k.Server.mercosTime(created)[:10], "data_criacao": k.Server.mercosTime(created),
		"ultima_alteracao": k.Server.mercosTime(o.UpdatedAt),
		"endereco_entrega": map[string]any{"endereco": c.Street, "numero": c.Number, "complemento": "",
			"bairro": "", "cidade": c.City, "estado": c.State, "cep": c.PostalCode},
		"valor_frete": 0, "total": jsonDec(total),
	}
}

// cliente is the /v1/clientes record of the buyer.
func cliente(c platformsim.SimCustomer) map[string]any {
	tipo := "F"
	if len(strings.TrimSpace(c.Document)) == 14 {
		tipo = "J"
	}
	return map[string]any{
		"razao_social": c.Name, "nome_fantasia": "", "tipo": tipo, "cnpj": c.Document, "rua": c.Street,
		"numero": c.Number, "complemento": "", "bairro": "", "cep": c.PostalCode, "cidade": c.City, "estado": c.State,
		"excluido": false, "emails": []any{map[string]any{"tipo": "T", "email": c.Email}},
		"telefones": []any{map[string]any{"tipo": "C", "numero": c.Phone}},
	}
}

// jsonDec writes an amount as the JSON number the API sends.
func jsonDec(d decimal.Decimal) json.Number { return json.Number(d.String()) }
