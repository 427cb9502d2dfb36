package mercossim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Endpoint names used by the counters.
const (
	EpStockBatch   = "POST /v1/ajustar_estoque_em_lote"
	EpStockOne     = "PUT /v1/ajustar_estoque"
	EpProducts     = "GET /v1/produtos"
	EpProductGet   = "GET /v1/produtos/{id}"
	EpProductPut   = "PUT /v1/produtos/{id}"
	EpCategories   = "GET /v1/categorias"
	EpCategoryPost = "POST /v1/categorias"
	EpCustomers    = "GET /v1/clientes"
	EpCustomerPost = "POST /v1/clientes"
	EpCustomerPut  = "PUT /v1/clientes/{id}"
	EpOrders       = "GET /v2/pedidos"
	EpOrderGet     = "GET /v2/pedidos/{id}"
	EpOrderPut     = "PUT /v2/pedidos/{id}"
	EpOrderCancel  = "POST /v1/pedidos/cancelar/{id}"
	EpInvoicePost  = "POST /v1/faturamento"
	EpOrderStatus  = "POST /v1/pedidos/{id}/status"
)

var writeEndpoints = map[string]bool{EpStockBatch: true, EpStockOne: true, EpProductPut: true}

type routed struct {
	endpoint string
	id       int64
}

func route(method, path string) routed {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	id := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
	key := method + " " + strings.Join(seg, "/")
	switch key {
	case "POST v1/ajustar_estoque_em_lote":
		return routed{endpoint: EpStockBatch}
	case "PUT v1/ajustar_estoque":
		return routed{endpoint: EpStockOne}
	case "GET v1/produtos":
		return routed{endpoint: EpProducts}
	case "GET v1/categorias":
		return routed{endpoint: EpCategories}
	case "POST v1/categorias":
		return routed{endpoint: EpCategoryPost}
	case "GET v1/clientes":
		return routed{endpoint: EpCustomers}
	case "POST v1/clientes":
		return routed{endpoint: EpCustomerPost}
	case "GET v2/pedidos":
		return routed{endpoint: EpOrders}
	case "POST v1/faturamento":
		return routed{endpoint: EpInvoicePost}
	}
	switch {
	case len(seg) == 3 && seg[0] == "v1" && seg[1] == "produtos" && method == http.MethodGet:
		return routed{endpoint: EpProductGet, id: id(seg[2])}
	case len(seg) == 3 && seg[0] == "v1" && seg[1] == "produtos" && method == http.MethodPut:
		return routed{endpoint: EpProductPut, id: id(seg[2])}
	case len(seg) == 3 && seg[0] == "v1" && seg[1] == "clientes" && method == http.MethodPut:
		return routed{endpoint: EpCustomerPut, id: id(seg[2])}
	case len(seg) == 3 && seg[0] == "v2" && seg[1] == "pedidos" && method == http.MethodGet:
		return routed{endpoint: EpOrderGet, id: id(seg[2])}
	case len(seg) == 3 && seg[0] == "v2" && seg[1] == "pedidos" && method == http.MethodPut:
		return routed{endpoint: EpOrderPut, id: id(seg[2])}
	case len(seg) == 4 && seg[0] == "v1" && seg[1] == "pedidos" && seg[3] == "status" && method == http.MethodPost:
		return routed{endpoint: EpOrderStatus, id: id(seg[2])}
	case len(seg) == 4 && seg[0] == "v1" && seg[1] == "pedidos" && seg[2] == "cancelar" && method == http.MethodPost:
		return routed{endpoint: EpOrderCancel, id: id(seg[3])}
	}
	return routed{}
}

// stockChange is one applied stock value, reported after the data lock is released.
type stockChange struct {
	productID, variantID string
	stock                int64
}

func jsonOut(status int, v any) out {
	b, _ := json.Marshal(v)
	return out{status: status, body: b}
}

func invalid(msg string, erros ...map[string]string) out {
	return jsonOut(http.StatusPreconditionFailed, map[string]any{"mensagem": msg, "erros": erros})
}

func notFound() out {
	return jsonOut(http.StatusNotFound, map[string]any{"mensagem": "Registro não encontrado"})
}

func (s *Server) handle(st *store, rt routed, r *http.Request, body []byte, now time.Time) (out, []stockChange) {
	st.data.Lock()
	defer st.data.Unlock()
	switch rt.endpoint {
	case EpStockBatch:
		var items []map[string]json.Number
		if json.Unmarshal(body, &items) != nil {
			return invalid("Corpo inválido: esperada uma lista de ajustes"), nil
		}
		return s.adjust(st, items, now, true)
	case EpStockOne:
		var item map[string]json.Number
		if json.Unmarshal(body, &item) != nil {
			return invalid("Corpo inválido"), nil
		}
		return s.adjust(st, []map[string]json.Number{item}, now, false)
	case EpProducts:
		return s.list(st, r, func(yield func(int64, time.Time, any)) {
			for _, p := range st.products {
				if p.ParentID == 0 {
					yield(p.ID, p.Alterado, s.productJSON(st, p))
				}
			}
		}), nil
	case EpProductGet:
		p, ok := st.products[rt.id]
		if !ok || p.ParentID != 0 {
			return notFound(), nil
		}
		return jsonOut(http.StatusOK, s.productJSON(st, p)), nil
	case EpProductPut:
		return s.putProduct(st, rt.id, body, now), nil
	case EpCategories:
		return s.listRecords(st, r, st.categories), nil
	case EpCategoryPost:
		var f map[string]any
		if json.Unmarshal(body, &f) != nil || strings.TrimSpace(fmt.Sprint(f["nome"])) == "" || f["nome"] == nil {
			return invalid("Dados inválidos", map[string]string{"campo": "nome", "mensagem": "Este campo é obrigatório."}), nil
		}
		return s.create(st, st.categories, f, now), nil
	case EpCustomers:
		return s.listRecords(st, r, st.customers), nil
	case EpCustomerPost, EpCustomerPut:
		return s.putCustomer(st, rt, body, now), nil
	case EpOrders:
		return s.listRecords(st, r, st.orders), nil
	case EpOrderGet:
		rec, ok := st.orders[rt.id]
		if !ok {
			return notFound(), nil
		}
		return jsonOut(http.StatusOK, s.recordJSON(rec)), nil
	case EpOrderPut:
		rec, ok := st.orders[rt.id]
		if !ok {
			return notFound(), nil
		}
		var f map[string]any
		if json.Unmarshal(body, &f) != nil {
			return invalid("Corpo inválido"), nil
		}
		for k, v := range f {
			if k != "id" && k != "status" {
				rec.fields[k] = v
			}
		}
		rec.alterado = now
		return out{status: http.StatusOK, body: []byte(`{}`)}, nil
	case EpOrderCancel:
		rec, ok := st.orders[rt.id]
		if !ok {
			return notFound(), nil
		}
		rec.fields["status"] = "0"
		rec.alterado = now
		return out{status: http.StatusOK, body: []byte(`{}`)}, nil
	case EpInvoicePost:
		return s.invoice(st, body, now), nil
	case EpOrderStatus:
		return s.orderStatus(st, rt.id, body, now), nil
	}
	return notFound(), nil
}

// invoice is POST /v1/faturamento ("Faturar um pedido"): pedido_id, valor_faturado (two
// decimals) and data_faturamento are required, numero_nf and informacoes_adicionais
// optional; 201 with the new id in MeusPedidosID, 412 with erros[{campo, mensagem}].
// The order's status_faturamento becomes "2" (faturado) once the invoices reach its
// total, "1" (parcialmente faturado) before.
func (s *Server) invoice(st *store, body []byte, now time.Time) out {
	var f map[string]json.RawMessage
	if json.Unmarshal(body, &f) != nil {
		return invalid("Corpo inválido")
	}
	var erros []map[string]string
	bad := func(campo, msg string) { erros = append(erros, map[string]string{"campo": campo, "mensagem": msg}) }
	var pedidoID int64
	if json.Unmarshal(f["pedido_id"], &pedidoID) != nil || pedidoID <= 0 {
		bad("pedido_id", "Este campo é obrigatório.")
	}
	var valor json.Number
	v, verr := decimal.Zero, error(nil)
	if json.Unmarshal(f["valor_faturado"], &valor) != nil || valor == "" {
		bad("valor_faturado", "Este campo é obrigatório.")
	} else if v, verr = decimal.NewFromString(valor.String()); verr != nil || !v.IsPositive() || v.Exponent() < -2 {
		bad("valor_faturado", "Informe um valor positivo com até duas casas decimais.")
	}
	var data string
	if json.Unmarshal(f["data_faturamento"], &data) != nil || data == "" {
		bad("data_faturamento", "Este campo é obrigatório.")
	} else if _, err := time.Parse(time.DateOnly, data); err != nil {
		bad("data_faturamento", "Data inválida, use o formato AAAA-MM-DD.")
	}
	var nf, info string
	if raw, ok := f["numero_nf"]; ok && json.Unmarshal(raw, &nf) != nil {
		bad("numero_nf", "Deve ser um texto.")
	}
	if raw, ok := f["informacoes_adicionais"]; ok && json.Unmarshal(raw, &info) != nil {
		bad("informacoes_adicionais", "Deve ser um texto.")
	}
	if len(erros) > 0 {
		return invalid("Ocorreram erros de validação", erros...)
	}
	rec, ok := st.orders[pedidoID]
	if !ok {
		return invalid("Ocorreram erros de validação", map[string]string{"campo": "pedido_id", "mensagem": "Pedido não encontrado."})
	}
	st.seq++
	inv := Invoice{ID: st.seq, OrderID: pedidoID, Value: v, Date: data, Number: nf, Info: info}
	st.invoices = append(st.invoices, inv)
	billed := decimal.Zero
	for _, i := range st.invoices {
		if i.OrderID == pedidoID {
			billed = billed.Add(i.Value)
		}
	}
	total, _ := decimal.NewFromString(fmt.Sprint(rec.fields["total"]))
	rec.fields["status_faturamento"] = "1"
	if billed.GreaterThanOrEqual(total) {
		rec.fields["status_faturamento"] = "2"
	}
	rec.alterado = now
	return out{status: http.StatusCreated, header: map[string]string{"MeusPedidosID": itoa(inv.ID)}, body: []byte(`{}`)}
}

// orderStatus is POST /v1/pedidos/{id}/status ("Alterar status de um pedido"): status_id
// is a custom status (GET /v1/pedidos/status), anotacao optional; 412 {mensagem} when
// the status does not exist.
func (s *Server) orderStatus(st *store, id int64, body []byte, now time.Time) out {
	rec, ok := st.orders[id]
	if !ok {
		return notFound()
	}
	var f struct {
		StatusID *int64  `json:"status_id"`
		Anotacao *string `json:"anotacao"`
	}
	if json.Unmarshal(body, &f) != nil || f.StatusID == nil {
		return jsonOut(http.StatusPreconditionFailed, map[string]any{"mensagem": "O campo status_id é obrigatório."})
	}
	name, ok := st.statuses[*f.StatusID]
	if !ok {
		return jsonOut(http.StatusPreconditionFailed, map[string]any{"mensagem": "Status não encontrado."})
	}
	note := ""
	if f.Anotacao != nil {
		note = *f.Anotacao
	}
	st.seq++
	st.history[id] = append(st.history[id], StatusChange{ID: st.seq, StatusID: *f.StatusID, Name: name, Note: note, At: now})
	rec.alterado = now
	return out{status: http.StatusOK, body: []byte(`{}`)}
}

// adjust validates every item and applies all or none (one bad item fails the batch).
func (s *Server) adjust(st *store, items []map[string]json.Number, now time.Time, batch bool) (out, []stockChange) {
	if st.cfg.StockControlOff {
		return jsonOut(http.StatusUnprocessableEntity, map[string]any{"mensagem": "A empresa não controla estoque."}), nil
	}
	if batch && len(items) > 300 {
		return invalid("Dados inválidos", map[string]string{"campo": "ajustes", "mensagem": "Máximo de 300 ajustes por requisição."}), nil
	}
	type ok struct {
		p   *Product
		qty decimal.Decimal
	}
	var good []ok
	var erros []map[string]string
	for i, it := range items {
		id, err := it["produto_id"].Int64()
		qty, qerr := decimal.NewFromString(it["novo_saldo"].String())
		p := st.products[id]
		var msg string
		switch {
		case err != nil:
			msg = fmt.Sprintf("Item %d: produto_id inválido.", i)
		case p == nil || p.Excluido:
			msg = fmt.Sprintf("Produto %d não encontrado.", id)
		case len(p.Children) > 0:
			msg = fmt.Sprintf("Produto %d possui grade; ajuste o estoque das variações.", id)
		case qerr != nil || qty.IsNegative() || qty.GreaterThan(decimal.RequireFromString("9999999.99")):
			msg = fmt.Sprintf("Produto %d: novo_saldo inválido.", id)
		}
		if msg != "" {
			if st.cfg.OpaqueBatchErrors {
				msg = "Um ou mais ajustes são inválidos."
			}
			erros = append(erros, map[string]string{"campo": "produto_id", "mensagem": msg})
			continue
		}
		good = append(good, ok{p, qty})
	}
	if len(erros) > 0 {
		return invalid("Dados inválidos", erros...), nil
	}
	var changes []stockChange
	for _, g := range good {
		if g.p.Stock == nil || !g.p.Stock.Equal(g.qty) {
			q := g.qty
			g.p.Stock = &q
			g.p.Alterado = now
			c := stockChange{productID: itoa(g.p.ID), stock: q.IntPart()}
			if g.p.ParentID != 0 {
				c.productID, c.variantID = itoa(g.p.ParentID), itoa(g.p.ID)
				if parent := st.products[g.p.ParentID]; parent != nil {
					parent.Alterado = now
				}
			}
			changes = append(changes, c)
		}
	}
	if !batch {
		return out{status: http.StatusOK, body: []byte(`{"novo_saldo":` + items[0]["novo_saldo"].String() + `}`)}, changes
	}
	b, _ := json.Marshal(items)
	return out{status: http.StatusOK, body: b}, changes
}

func (s *Server) putProduct(st *store, id int64, body []byte, now time.Time) out {
	p, ok := st.products[id]
	if !ok || p.ParentID != 0 {
		return notFound()
	}
	var f map[string]json.RawMessage
	if json.Unmarshal(body, &f) != nil {
		return invalid("Corpo inválido")
	}
	var erros []map[string]string
	if v, ok := f["preco_tabela"]; ok {
		var n json.Number
		d, err := decimal.Decimal{}, error(nil)
		if err = json.Unmarshal(v, &n); err == nil {
			d, err = decimal.NewFromString(n.String())
		}
		if err != nil || d.IsNegative() {
			erros = append(erros, map[string]string{"campo": "preco_tabela", "mensagem": "Valor inválido."})
		} else {
			p.Price = d
		}
	}
	if v, ok := f["categoria_id"]; ok {
		var cid int64
		if json.Unmarshal(v, &cid) != nil || st.categories[cid] == nil {
			erros = append(erros, map[string]string{"campo": "categoria_id", "mensagem": "Categoria inexistente."})
		} else {
			p.CategoriaID = cid
		}
	}
	if v, ok := f["nome"]; ok {
		var n string
		if json.Unmarshal(v, &n) != nil || strings.TrimSpace(n) == "" {
			erros = append(erros, map[string]string{"campo": "nome", "mensagem": "Este campo é obrigatório."})
		} else {
			p.Nome = n
		}
	}
	_ = json.Unmarshal(f["codigo"], &p.Codigo)
	_ = json.Unmarshal(f["observacoes"], &p.Observacoes)
	_ = json.Unmarshal(f["ativo"], &p.Ativo)
	if len(erros) > 0 {
		return invalid("Dados inválidos", erros...)
	}
	p.Alterado = now
	return jsonOut(http.StatusOK, map[string]any{"id": p.ID, "produtos_grade": p.Children})
}

func (s *Server) putCustomer(st *store, rt routed, body []byte, now time.Time) out {
	var f map[string]any
	if json.Unmarshal(body, &f) != nil {
		return invalid("Corpo inválido")
	}
	var rec *record
	if rt.endpoint == EpCustomerPut {
		if rec = st.customers[rt.id]; rec == nil {
			return notFound()
		}
	}
	name, _ := f["razao_social"].(string)
	if rec == nil && strings.TrimSpace(name) == "" {
		return invalid("Dados inválidos", map[string]string{"campo": "razao_social", "mensagem": "Este campo é obrigatório."})
	}
	if doc, _ := f["cnpj"].(string); doc != "" {
		for _, other := range st.customers {
			if other != rec && other.fields["cnpj"] == doc {
				return invalid("Dados inválidos", map[string]string{"campo": "cnpj", "mensagem": "Já existe um cliente com este CNPJ/CPF."})
			}
		}
	}
	if rec == nil {
		return s.create(st, st.customers, f, now)
	}
	for k, v := range f {
		if k != "id" {
			rec.fields[k] = v
		}
	}
	rec.alterado = now
	return out{status: http.StatusOK, body: []byte(`{}`)}
}

func (s *Server) create(st *store, m map[int64]*record, f map[string]any, now time.Time) out {
	st.seq++
	f["id"] = st.seq
	if _, ok := f["excluido"]; !ok {
		f["excluido"] = false
	}
	m[st.seq] = &record{id: st.seq, fields: f, alterado: now}
	return out{status: http.StatusCreated, header: map[string]string{"MeusPedidosID": itoa(st.seq)}}
}

func (s *Server) recordJSON(rec *record) map[string]any {
	o := make(map[string]any, len(rec.fields)+1)
	for k, v := range rec.fields {
		o[k] = v
	}
	o["ultima_alteracao"] = s.mercosTime(rec.alterado)
	return o
}

func (s *Server) listRecords(st *store, r *http.Request, m map[int64]*record) out {
	return s.list(st, r, func(yield func(int64, time.Time, any)) {
		for _, rec := range m {
			yield(rec.id, rec.alterado, s.recordJSON(rec))
		}
	})
}

func (s *Server) productJSON(st *store, p *Product) map[string]any {
	o := map[string]any{"id": p.ID, "codigo": p.Codigo, "nome": p.Nome, "preco_tabela": json.Number(dec(p.Price)),
		"saldo_estoque": nil, "ativo": p.Ativo, "excluido": p.Excluido, "categoria_id": p.CategoriaID,
		"observacoes": p.Observacoes, "ultima_alteracao": s.mercosTime(p.Alterado), "moeda": "0", "tipo_ipi": "P",
		"produtos_grade": []any{}}
	if p.Stock != nil {
		o["saldo_estoque"] = json.Number(p.Stock.String())
	}
	grade := make([]any, 0, len(p.Children))
	for _, cid := range p.Children {
		c := st.products[cid]
		if c == nil {
			continue
		}
		var names []map[string]string
		for k, v := range c.Variation {
			names = append(names, map[string]string{k: v})
		}
		g := map[string]any{"id": c.ID, "codigo": c.Codigo, "ativo": c.Ativo, "excluido": c.Excluido,
			"exibir_no_b2b": true, "itens_variacoes_nomes": names, "saldo_estoque": nil}
		if c.Stock != nil {
			g["saldo_estoque"] = json.Number(c.Stock.String())
		}
		grade = append(grade, g)
	}
	if len(grade) > 0 {
		o["produtos_grade"] = grade
		o["saldo_estoque"] = nil
	}
	return o
}

// list answers an incremental list: records changed at or after alterado_apos (second
// resolution), oldest first, at most a page, with MEUSPEDIDOS_LIMITOU_REGISTROS: 1 when
// more remain.
func (s *Server) list(_ *store, r *http.Request, each func(yield func(int64, time.Time, any))) out {
	after, ok := s.parseAfter(r.URL.Query().Get("alterado_apos"))
	if !ok {
		return invalid("Dados inválidos", map[string]string{"campo": "alterado_apos", "mensagem": "Parâmetro obrigatório no formato AAAA-MM-DDTHH:MM:SS."})
	}
	size := s.opts.PageSize
	if v, err := strconv.Atoi(r.URL.Query().Get("registros_por_pagina")); err == nil && v > 0 && v < size {
		size = v
	}
	type entry struct {
		id  int64
		sec int64
		v   any
	}
	var all []entry
	cut := after.Unix()
	each(func(id int64, at time.Time, v any) {
		if sec := at.Unix(); sec > cut || (sec == cut && !s.opts.ExclusiveAfter) {
			all = append(all, entry{id, sec, v})
		}
	})
	sort.Slice(all, func(i, j int) bool {
		if all[i].sec != all[j].sec {
			return all[i].sec < all[j].sec
		}
		return all[i].id < all[j].id
	})
	o := out{status: http.StatusOK}
	if len(all) > size {
		all = all[:size]
		o.header = map[string]string{"MEUSPEDIDOS_LIMITOU_REGISTROS": "1"}
	}
	vals := make([]any, len(all))
	for i, e := range all {
		vals[i] = e.v
	}
	o.body, _ = json.Marshal(vals)
	return o
}
