package mercos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// flexNum takes Mercos' loosely typed numbers: 12, 12.5, "12.5", null.
type flexNum string

func (f *flexNum) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexNum(strings.TrimSpace(s))
	case b[0] == '{' || b[0] == '[':
		*f = ""
	default:
		*f = flexNum(b)
	}
	return nil
}

func (f flexNum) str() string { return strings.TrimSpace(string(f)) }

func (f flexNum) id() int64 {
	n, _ := strconv.ParseInt(f.str(), 10, 64)
	return max(n, 0)
}

// flexStr takes strings that may arrive as numbers or null.
type flexStr = flexNum

type clienteJSON struct {
	ID           flexNum `json:"id"`
	RazaoSocial  flexStr `json:"razao_social"`
	NomeFantasia flexStr `json:"nome_fantasia"`
	Tipo         flexStr `json:"tipo"` // J (company) or F (person)
	CNPJ         flexStr `json:"cnpj"`
	Rua          flexStr `json:"rua"`
	Numero       flexStr `json:"numero"`
	Complemento  flexStr `json:"complemento"`
	Bairro       flexStr `json:"bairro"`
	CEP          flexStr `json:"cep"`
	Cidade       flexStr `json:"cidade"`
	Estado       flexStr `json:"estado"`
	Emails       []struct {
		Email flexStr `json:"email"`
	} `json:"emails"`
	Telefones []struct {
		Numero flexStr `json:"numero"`
	} `json:"telefones"`
	Excluido bool `json:"excluido"`
}

type enderecoJSON struct {
	Endereco    flexStr `json:"endereco"`
	Numero      flexStr `json:"numero"`
	Complemento flexStr `json:"complemento"`
	Bairro      flexStr `json:"bairro"`
	Cidade      flexStr `json:"cidade"`
	Estado      flexStr `json:"estado"`
	CEP         flexStr `json:"cep"`
}

type itemJSON struct {
	ID          flexNum `json:"id"`
	ProdutoID   flexNum `json:"produto_id"`
	Quantidade  flexNum `json:"quantidade"`
	PrecoTabela flexNum `json:"preco_tabela"`
	PrecoLiq    flexNum `json:"preco_liquido"`
	Subtotal    flexNum `json:"subtotal"`
	Excluido    bool    `json:"excluido"`
}

type pedidoJSON struct {
	ID                 flexNum         `json:"id"`
	Numero             flexNum         `json:"numero"`
	ClienteID          flexNum         `json:"cliente_id"`
	Status             flexStr         `json:"status"`
	CondicaoPagamento  flexStr         `json:"condicao_pagamento"`
	FormaPagamentoID   flexNum         `json:"forma_pagamento_id"`
	TransportadoraNome flexStr         `json:"transportadora_nome"`
	NomeContato        flexStr         `json:"nome_contato"`
	Itens              []itemJSON      `json:"itens"`
	DataCriacao        flexStr         `json:"data_criacao"`
	DataEmissao        flexStr         `json:"data_emissao"`
	UltimaAlteracao    flexStr         `json:"ultima_alteracao"`
	EnderecoEntrega    json.RawMessage `json:"endereco_entrega"`
	ValorFrete         flexNum         `json:"valor_frete"`
	Total              flexNum         `json:"total"`
	Observacoes        flexStr         `json:"observacoes"`
	Cupom              flexStr         `json:"cupom_de_desconto"`
}

// lookups resolve the ids an order carries (Mercos orders name the client and products
// by id only).
type lookups struct {
	customers map[int64]clienteJSON
	products  map[int64]productRef
}

// notOrderError marks a body that is not an order at all (garbage: worth a retry).
type notOrderError struct{ snippet string }

func (e *notOrderError) Error() string { return "body is not a Mercos order (" + e.snippet + ")" }

// normaliseOrder turns one /v2/pedidos record into the canonical order.
func normaliseOrder(body []byte, conn domain.Connection, currency string, sp *time.Location, lk lookups) (domain.Order, error) {
	body = bytes.TrimSpace(body)
	var p pedidoJSON
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &p) != nil {
		return domain.Order{}, &notOrderError{snippet: snippet(body)}
	}
	id := p.ID.id()
	if id <= 0 {
		return domain.Order{}, fmt.Errorf("field id is missing or invalid")
	}
	out := domain.Order{
		Tenant: conn.Tenant, ConnectionID: conn.ID, PlatformID: strconv.FormatInt(id, 10),
		Number: p.Numero.str(), PlatformStatus: p.Status.str(), ShippingMethod: p.TransportadoraNome.str(),
		PaymentMethod: p.CondicaoPagamento.str(), Note: p.Observacoes.str(), Lines: []domain.OrderLine{},
	}
	if code := p.Cupom.str(); code != "" {
		out.CouponCodes = []string{code}
	}
	if out.PaymentMethod == "" && p.FormaPagamentoID.id() > 0 {
		out.PaymentMethod = "forma_pagamento:" + p.FormaPagamentoID.str()
	}
	var err error
	if out.Total, err = amount(p.Total, currency); err != nil {
		return domain.Order{}, fmt.Errorf("field total: %v", err)
	}
	if out.ShippingCost, err = amount(p.ValorFrete, currency); err != nil {
		return domain.Order{}, fmt.Errorf("field valor_frete: %v", err)
	}
	out.Discount = domain.Money{Amount: decimal.Zero, Currency: currency}
	placed := firstNonEmpty(p.DataCriacao.str(), p.DataEmissao.str())
	if placed == "" {
		placed = p.UltimaAlteracao.str()
	}
	if out.PlacedAt, err = orderTime(placed, sp); err != nil {
		return domain.Order{}, fmt.Errorf("field data_criacao: %v", err)
	}
	if out.UpdatedAt, err = orderTime(p.UltimaAlteracao.str(), sp); err != nil {
		out.UpdatedAt = out.PlacedAt
	}
	// Customer.
	cid := p.ClienteID.id()
	if cid > 0 {
		out.Customer.ExternalID = strconv.FormatInt(cid, 10)
	}
	if cl, ok := lk.customers[cid]; ok && cid > 0 {
		cust := customerFrom(cl)
		cust.ExternalID = out.Customer.ExternalID
		out.Customer = cust
	}
	out.Customer.Tenant = conn.Tenant
	if out.Customer.Name == "" {
		out.Customer.Name = p.NomeContato.str()
	}
	out.Billing = out.Customer.Address
	out.Shipping = out.Customer.Address
	var ship enderecoJSON
	if raw := bytes.TrimSpace(p.EnderecoEntrega); len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &ship) == nil {
		if a := toAddress(ship, firstNonEmpty(p.NomeContato.str(), out.Customer.Name)); a != nil {
			out.Shipping = a
		}
	}
	// Lines. The order's discount is its lines' (table price above the net price); its
	// tax is what Mercos adds to a line's subtotal on top of net price × quantity (IPI
	// and ST), so Σ table price × quantity − discount + tax + freight is the total.
	discount, tax, taxed := decimal.Zero, decimal.Zero, false
	for i, it := range p.Itens {
		if it.Excluido {
			continue
		}
		line, err := normaliseLine(it, currency, lk)
		if err != nil {
			return domain.Order{}, fmt.Errorf("field itens[%d].%v", i, err)
		}
		discount = discount.Add(line.Discount.Amount)
		if line.Tax != nil {
			tax, taxed = tax.Add(line.Tax.Amount), true
		}
		out.Lines = append(out.Lines, line)
	}
	out.Discount.Amount = discount
	if taxed {
		out.Tax = &domain.Money{Amount: tax, Currency: currency}
	}
	return out, nil
}

func normaliseLine(it itemJSON, currency string, lk lookups) (domain.OrderLine, error) {
	pid := it.ProdutoID.id()
	if pid <= 0 {
		return domain.OrderLine{}, fmt.Errorf("produto_id: missing or invalid")
	}
	qd, err := decimal.NewFromString(it.Quantidade.str())
	if err != nil || !qd.IsPositive() || qd.GreaterThan(decimal.NewFromInt(1_000_000_000)) {
		return domain.OrderLine{}, fmt.Errorf("quantidade: %q is not a positive number", truncate(it.Quantidade.str(), 20))
	}
	if !qd.Equal(qd.Truncate(0)) {
		return domain.OrderLine{}, fmt.Errorf("quantidade: %s is fractional", qd)
	}
	qty := qd.IntPart()
	list, err := amount(it.PrecoTabela, currency)
	if err != nil {
		return domain.OrderLine{}, fmt.Errorf("preco_tabela: %v", err)
	}
	net := list
	if it.PrecoLiq.str() != "" {
		if net, err = amount(it.PrecoLiq, currency); err != nil {
			return domain.OrderLine{}, fmt.Errorf("preco_liquido: %v", err)
		}
	}
	if list.Amount.IsZero() || net.Amount.GreaterThan(list.Amount) {
		list = net // no table price, or a net above it: the net price is the unit price
	}
	line := domain.OrderLine{
		ProductID: strconv.FormatInt(pid, 10), Quantity: qty, UnitPrice: list,
		Discount: domain.Money{Amount: list.Amount.Sub(net.Amount).Mul(qd).Round(2), Currency: currency},
	}
	if it.Subtotal.str() != "" {
		sub, err := amount(it.Subtotal, currency)
		if err != nil {
			return domain.OrderLine{}, fmt.Errorf("subtotal: %v", err)
		}
		// Mercos' subtotal is net price × quantity plus the line's IPI and ST.
		if extra := sub.Amount.Sub(net.Amount.Mul(qd)).Round(2); extra.IsPositive() {
			line.Tax = &domain.Money{Amount: extra, Currency: currency}
		}
	}
	if ref, ok := lk.products[pid]; ok {
		line.SKU, line.Name = ref.Codigo, ref.Nome
		if ref.ParentID != 0 { // a grid child: the line names the variant of its parent
			line.ProductID, line.VariantID = strconv.FormatInt(ref.ParentID, 10), strconv.FormatInt(pid, 10)
			if parent, ok := lk.products[ref.ParentID]; ok && line.SKU == "" {
				line.SKU = parent.Codigo
			}
		}
	}
	return line, nil
}

func customerFrom(cl clienteJSON) domain.Customer {
	c := domain.Customer{
		Name: firstNonEmpty(cl.RazaoSocial.str(), cl.NomeFantasia.str()), TradeName: cl.NomeFantasia.str(),
		Document: domain.Digits(cl.CNPJ.str()),
	}
	if strings.EqualFold(cl.Tipo.str(), "J") || len(c.Document) == 14 {
		c.CompanyName = cl.RazaoSocial.str()
	}
	for _, e := range cl.Emails {
		if v := strings.ToLower(e.Email.str()); v != "" && c.Email == "" {
			c.Email = v
		}
	}
	for _, t := range cl.Telefones {
		if v := t.Numero.str(); v != "" && !slices.Contains(c.Phones, v) {
			c.Phones = append(c.Phones, v)
		}
	}
	phone := ""
	if len(c.Phones) > 0 {
		phone = c.Phones[0]
	}
	c.Address = toAddress(enderecoJSON{Endereco: cl.Rua, Numero: cl.Numero, Complemento: cl.Complemento,
		Bairro: cl.Bairro, Cidade: cl.Cidade, Estado: cl.Estado, CEP: cl.CEP}, c.Name)
	if c.Address != nil {
		c.Address.Phone = phone
		c.Address.Country = "BR"
	}
	return c
}

func toAddress(a enderecoJSON, name string) *domain.Address {
	if a.Endereco.str() == "" && a.Cidade.str() == "" && a.CEP.str() == "" {
		return nil
	}
	return &domain.Address{
		Name: name, Street: a.Endereco.str(), Number: a.Numero.str(), Complement: a.Complemento.str(),
		Neighborhood: a.Bairro.str(), City: a.Cidade.str(), State: strings.ToUpper(a.Estado.str()),
		PostalCode: domain.Digits(a.CEP.str()), Country: "BR",
	}
}

// amount parses a Mercos amount; empty is zero.
func amount(v flexNum, currency string) (domain.Money, error) {
	s := v.str()
	if s == "" {
		return domain.Money{Amount: decimal.Zero, Currency: currency}, nil
	}
	if len(s) > 32 {
		return domain.Money{}, fmt.Errorf("amount too long")
	}
	d, err := domain.ParseAmount(s)
	if err != nil {
		return domain.Money{}, err
	}
	return domain.Money{Amount: d, Currency: currency}, nil
}

// orderTime reads a Brazil-time timestamp (or date) as UTC.
func orderTime(v string, sp *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("missing")
	}
	t, err := parseMercosTime(v, sp)
	if err != nil || t.Year() < 2000 {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD HH:MM:SS", truncate(v, 40))
	}
	return t.UTC(), nil
}

// lookupsFor refreshes the customer and product lookups when an order names ids they
// do not hold yet, and returns them.
func (c *Connector) lookupsFor(ctx context.Context, conn domain.Connection, s settings, op string, orders []pedidoJSON) (lookups, error) {
	st := c.state(conn, s)
	needCust, needProd := false, false
	st.custMu.Lock()
	st.prodMu.Lock()
	for _, o := range orders {
		if id := o.ClienteID.id(); id > 0 {
			if _, ok := st.customers[id]; !ok {
				needCust = true
			}
		}
		for _, it := range o.Itens {
			if _, ok := st.products[it.ProdutoID.id()]; !ok {
				needProd = true
			}
		}
	}
	st.prodMu.Unlock()
	st.custMu.Unlock()
	if needCust {
		if err := c.refreshCustomers(ctx, conn, s, op); err != nil {
			return lookups{}, err
		}
	}
	if needProd {
		if err := c.refreshProducts(ctx, conn, s, op); err != nil {
			return lookups{}, err
		}
	}
	lk := lookups{customers: map[int64]clienteJSON{}, products: map[int64]productRef{}}
	st.custMu.Lock()
	st.prodMu.Lock()
	for _, o := range orders {
		if cl, ok := st.customers[o.ClienteID.id()]; ok {
			lk.customers[o.ClienteID.id()] = cl
		}
		for _, it := range o.Itens {
			if r, ok := st.products[it.ProdutoID.id()]; ok {
				lk.products[r.ID] = r
				if p, ok := st.products[r.ParentID]; ok && r.ParentID != 0 {
					lk.products[p.ID] = p
				}
			}
		}
	}
	st.prodMu.Unlock()
	st.custMu.Unlock()
	return lk, nil
}

// PollOrders reads the next page of /v2/pedidos changed since the cursor, normalised.
// The cursor encodes alterado_apos and the ids already taken in that second.
func (c *Connector) PollOrders(ctx context.Context, conn domain.Connection, cursorStr string) (platform.OrderPage, error) {
	const op = "poll_orders"
	s, err := c.settings(conn)
	if err != nil {
		return platform.OrderPage{}, err
	}
	cur, err := decodeCursor(cursorStr, s.since)
	if err != nil {
		return platform.OrderPage{}, permanent(op, "%v", err)
	}
	var extra url.Values
	if s.pageSize > 0 {
		extra = url.Values{"registros_por_pagina": {strconv.Itoa(s.pageSize)}}
	}
	recs, next, more, err := c.page(ctx, conn, s, op, "/v2/pedidos", cur, extra)
	if err != nil {
		return platform.OrderPage{}, err
	}
	parsed := make([]pedidoJSON, 0, len(recs))
	for _, r := range recs {
		var p pedidoJSON
		_ = json.Unmarshal(r.raw, &p) // a bad record is reported by normaliseOrder below
		parsed = append(parsed, p)
	}
	lk, err := c.lookupsFor(ctx, conn, s, op, parsed)
	if err != nil {
		return platform.OrderPage{}, err
	}
	page := platform.OrderPage{Orders: []domain.Order{}, Next: next.encode(), More: more}
	for _, r := range recs {
		o, err := normaliseOrder(r.raw, conn, s.currency, c.sp, lk)
		if err != nil {
			// One malformed order must not stall intake; it is logged (no secrets) and skipped.
			c.log.Warn("mercos: skipping an order that does not normalise", "connection", conn.ID, "order_id", r.id, "error", err.Error())
			continue
		}
		page.Orders = append(page.Orders, o)
		if id, ok := parseID(o.PlatformID); ok {
			c.state(conn, s).rememberTotal(id, o.Total.Amount)
		}
	}
	return page, nil
}

// DefaultOrderPollInterval is 0: Mercos has no webhooks, polling is how its orders
// arrive at all, so it runs every scheduler tick.
func (c *Connector) DefaultOrderPollInterval() time.Duration { return 0 }

// FetchOrder reads GET /v2/pedidos/{id}. Mercos allows it in the sandbox but blocks it
// in production, where orders arrive complete through PollOrders.
func (c *Connector) FetchOrder(ctx context.Context, conn domain.Connection, platformOrderID string) (domain.Order, error) {
	const op = "fetch_order"
	s, err := c.settings(conn)
	if err != nil {
		return domain.Order{}, err
	}
	id, ok := parseID(platformOrderID)
	if !ok {
		return domain.Order{}, permanent(op, "invalid Mercos order id %q", truncate(platformOrderID, 40))
	}
	r := request{op: op, method: http.MethodGet, path: "/v2/pedidos/" + strconv.FormatInt(id, 10),
		notFound: fmt.Sprintf("order %d not found on Mercos", id)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return domain.Order{}, err
	}
	var p pedidoJSON
	if json.Unmarshal(resp.body, &p) != nil {
		return domain.Order{}, transient(op, "GET %s: body is not a Mercos order (%s)", r.path, snippet(resp.body))
	}
	lk, err := c.lookupsFor(ctx, conn, s, op, []pedidoJSON{p})
	if err != nil {
		return domain.Order{}, err
	}
	o, err := normaliseOrder(resp.body, conn, s.currency, c.sp, lk)
	if err != nil {
		if _, bad := err.(*notOrderError); bad {
			return domain.Order{}, transient(op, "GET %s: %v", r.path, err)
		}
		return domain.Order{}, permanent(op, "order %d: %v", id, err)
	}
	c.state(conn, s).rememberTotal(id, o.Total.Amount)
	return o, nil
}

// VerifyWebhook always fails: Mercos sends no webhooks; orders are polled.
func (c *Connector) VerifyWebhook(context.Context, domain.Connection, platform.WebhookRequest) (platform.WebhookEvent, error) {
	return platform.WebhookEvent{}, permanent("verify_webhook", "Mercos has no webhooks; its orders are taken by polling (PollOrders)")
}

// WriteOrderStatus writes back what the Mercos API documents:
//   - a cancelling status ("0", "cancel…") → POST /v1/pedidos/cancelar/{id};
//   - "faturado" (or "invoiced") → POST /v1/faturamento ("Faturar um pedido") with
//     pedido_id, valor_faturado (the order's total), data_faturamento (the update's date in
//     Brazil time), numero_nf (the invoice number) and informacoes_adicionais (the NF-e
//     key and URL); Mercos then shows the order as faturado (status_faturamento "2");
//   - "status:<id>" → POST /v1/pedidos/{id}/status with a custom status id from the
//     account's own list (GET /v1/pedidos/status), the tracking and invoice data in its
//     anotacao: how an account marks shipped or delivered, which Mercos has no fixed
//     status for;
//   - a tracking code → the order's "rastreamento" with PUT /v2/pedidos/{id}.
//
// Other statuses have no documented write and answer a Permanent error.
func (c *Connector) WriteOrderStatus(ctx context.Context, conn domain.Connection, platformOrderID string, u domain.OrderStatusUpdate) error {
	const op = "write_order_status"
	s, err := c.settings(conn)
	if err != nil {
		return err
	}
	id, ok := parseID(platformOrderID)
	if !ok {
		return permanent(op, "invalid Mercos order id %q", truncate(platformOrderID, 40))
	}
	idStr := strconv.FormatInt(id, 10)
	notFound := fmt.Sprintf("order %d not found on Mercos", id)
	status := strings.ToLower(strings.TrimSpace(u.PlatformStatus))
	if isCancel(status) {
		r := request{op: op, method: http.MethodPost, path: "/v1/pedidos/cancelar/" + idStr, notFound: notFound}
		_, err := c.do(ctx, conn, s, r)
		return err
	}
	switch {
	case status == "faturado" || status == "invoiced":
		if err := c.writeInvoice(ctx, conn, s, id, u); err != nil {
			return err
		}
	case strings.HasPrefix(status, "status:"):
		sid, ok := parseID(strings.TrimPrefix(status, "status:"))
		if !ok {
			return permanent(op, "platform status %q: after status: comes a custom status id from Mercos (GET /v1/pedidos/status)", truncate(u.PlatformStatus, 40))
		}
		body := map[string]any{"status_id": sid}
		if note := annotation(u); note != "" {
			body["anotacao"] = note
		}
		raw, _ := json.Marshal(body)
		r := request{op: op, method: http.MethodPost, path: "/v1/pedidos/" + idStr + "/status", body: raw, notFound: notFound}
		if _, err := c.do(ctx, conn, s, r); err != nil {
			return err
		}
	case status == "", status == "2", status == "gerado", status == "shipped", status == "enviado":
		// Nothing but the tracking below: Mercos has no fixed shipped status.
	default:
		return permanent(op, "Mercos has no documented API write for order status %q (write cancelado, faturado, status:<custom status id>, or map it to nothing)", truncate(u.PlatformStatus, 40))
	}
	if code := strings.TrimSpace(u.TrackingCode); code != "" {
		raw, _ := json.Marshal(map[string]string{"rastreamento": code})
		r := request{op: op, method: http.MethodPut, path: "/v2/pedidos/" + idStr, body: raw, notFound: notFound}
		if _, err := c.do(ctx, conn, s, r); err != nil {
			return err
		}
	}
	return nil
}

// writeInvoice posts the order's faturamento. valor_faturado is required by Mercos and
// the hub's update carries no amount, so it is the order's total as last read from
// Mercos (remembered from the poll), else read with GET /v2/pedidos/{id} (which only
// the sandbox allows).
func (c *Connector) writeInvoice(ctx context.Context, conn domain.Connection, s settings, id int64, u domain.OrderStatusUpdate) error {
	const op = "write_order_status"
	total, ok := c.state(conn, s).total(id)
	if !ok {
		o, err := c.FetchOrder(ctx, conn, strconv.FormatInt(id, 10))
		if err != nil {
			return fmt.Errorf("mercos: valor_faturado for order %d: the order was not polled by this process and reading it failed: %w", id, err)
		}
		total = o.Total.Amount
	}
	if !total.IsPositive() {
		return permanent(op, "order %d has total %s; Mercos takes an invoice only with a positive valor_faturado", id, total)
	}
	at := u.At
	if at.IsZero() {
		at = c.opts.Now()
	}
	body := map[string]any{"pedido_id": id, "valor_faturado": json.Number(total.StringFixed(2)),
		"data_faturamento": at.In(c.sp).Format(time.DateOnly)}
	if n := strings.TrimSpace(u.InvoiceNumber); n != "" {
		body["numero_nf"] = n
	}
	var info []string
	if k := strings.TrimSpace(u.InvoiceKey); k != "" {
		info = append(info, "Chave NF-e: "+k)
	}
	if l := strings.TrimSpace(u.InvoiceURL); l != "" {
		info = append(info, "NF-e: "+l)
	}
	if len(info) > 0 {
		body["informacoes_adicionais"] = strings.Join(info, "\n")
	}
	raw, _ := json.Marshal(body)
	r := request{op: op, method: http.MethodPost, path: "/v1/faturamento", body: raw,
		notFound: fmt.Sprintf("order %d not found on Mercos", id)}
	_, err := c.do(ctx, conn, s, r)
	return err
}

// annotation is the note a custom status carries: tracking and invoice data, if any.
func annotation(u domain.OrderStatusUpdate) string {
	var parts []string
	add := func(label, v string) {
		if v = strings.TrimSpace(v); v != "" {
			parts = append(parts, label+": "+v)
		}
	}
	add("Transportadora", u.Carrier)
	add("Rastreio", u.TrackingCode)
	add("Link de rastreio", u.TrackingURL)
	add("NF", u.InvoiceNumber)
	add("Chave NF-e", u.InvoiceKey)
	return strings.Join(parts, "; ")
}

func isCancel(s string) bool {
	return s == "0" || strings.HasPrefix(s, "cancel")
}
