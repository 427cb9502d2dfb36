package mercos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// PushCustomers creates (POST /v1/clientes, new id in the MeusPedidosID header) or
// updates (PUT /v1/clientes/{id}) each customer, one request each. A 401 or 429 stops
// the call; the remaining customers get the same error.
func (c *Connector) PushCustomers(ctx context.Context, conn domain.Connection, customers []platform.CustomerUpdate) []platform.CustomerResult {
	const op = "push_customers"
	out := make([]platform.CustomerResult, len(customers))
	s, err := c.settings(conn)
	if err != nil {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	var stop error
	for i, cu := range customers {
		out[i].PlatformID = cu.PlatformID
		if stop != nil {
			out[i].Err = stop
			continue
		}
		body, err := clienteBody(cu.Customer, cu.PlatformID == "")
		if err != nil {
			out[i].Err = permanent(op, "customer %s: %v", customerLabel(cu.Customer), err)
			continue
		}
		raw, _ := json.Marshal(body)
		r := request{op: op, method: http.MethodPost, path: "/v1/clientes", body: raw}
		if cu.PlatformID != "" {
			id, ok := parseID(cu.PlatformID)
			if !ok {
				out[i].Err = permanent(op, "customer %s: invalid Mercos client id %q", customerLabel(cu.Customer), truncate(cu.PlatformID, 40))
				continue
			}
			r.method, r.path = http.MethodPut, "/v1/clientes/"+strconv.FormatInt(id, 10)
			r.notFound = fmt.Sprintf("client %d not found on Mercos", id)
		}
		resp, err := c.do(ctx, conn, s, r)
		if err != nil {
			pe := platform.AsError(err)
			if pe.Kind == platform.Auth || pe.Kind == platform.RateLimited {
				stop = err
			}
			if pe.Kind == platform.Permanent {
				e := *pe
				e.Message = "customer " + customerLabel(cu.Customer) + ": " + pe.Message
				err = &e
			}
			out[i].Err = err
			continue
		}
		if cu.PlatformID == "" {
			id, ok := createdID(resp)
			if !ok {
				out[i].Err = transient(op, "POST /v1/clientes: HTTP %d without a MeusPedidosID header or id (%s)", resp.status, snippet(resp.body))
				continue
			}
			out[i].PlatformID = strconv.FormatInt(id, 10)
		}
	}
	return out
}

func customerLabel(c domain.Customer) string {
	if c.ExternalID != "" {
		return c.ExternalID
	}
	if d := domain.Digits(c.Document); d != "" {
		return "doc ..." + d[max(0, len(d)-4):] // no full documents in messages
	}
	return truncate(firstNonEmpty(c.CompanyName, c.Name), 40)
}

// clienteBody maps a customer onto Mercos' client fields. Mercos requires razao_social
// (the company name, or the person's name) and keeps CNPJ or CPF in "cnpj" with tipo J/F.
func clienteBody(c domain.Customer, create bool) (map[string]any, error) {
	name := strings.TrimSpace(firstNonEmpty(c.CompanyName, c.Name))
	if name == "" {
		return nil, fmt.Errorf("field name (razao_social) is empty")
	}
	b := map[string]any{"razao_social": truncate(name, 100)}
	if t := strings.TrimSpace(c.TradeName); t != "" {
		b["nome_fantasia"] = truncate(t, 100)
	}
	doc := domain.Digits(c.Document)
	switch len(doc) {
	case 0:
	case 14:
		b["tipo"], b["cnpj"] = "J", doc
	case 11:
		b["tipo"], b["cnpj"] = "F", doc
	default:
		return nil, fmt.Errorf("field document must be a CNPJ (14 digits) or CPF (11 digits)")
	}
	if _, ok := b["tipo"]; !ok && create {
		b["tipo"] = "J"
		if c.CompanyName == "" {
			b["tipo"] = "F"
		}
	}
	if e := strings.TrimSpace(c.Email); e != "" {
		if !strings.Contains(e, "@") {
			return nil, fmt.Errorf("field email is not an address")
		}
		b["emails"] = []map[string]string{{"email": e}}
	}
	var phones []map[string]string
	for _, p := range c.Phones {
		if p = strings.TrimSpace(p); p != "" {
			phones = append(phones, map[string]string{"numero": p})
		}
	}
	if len(phones) > 0 {
		b["telefones"] = phones
	}
	if a := c.Address; a != nil {
		set := func(k, v string) {
			if v = strings.TrimSpace(v); v != "" {
				b[k] = v
			}
		}
		set("rua", a.Street)
		set("numero", a.Number)
		set("complemento", a.Complement)
		set("bairro", a.Neighborhood)
		set("cidade", a.City)
		set("estado", strings.ToUpper(a.State))
		set("cep", domain.Digits(a.PostalCode))
	}
	return b, nil
}
