package mercos

import (
	"bytes"
	"context"
	"encoding/base64"
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

// maxPages bounds one walk of a list (a runaway server cannot loop us forever).
const maxPages = 10000

// limitedHeader says more records remain after this page.
const limitedHeader = "MEUSPEDIDOS_LIMITOU_REGISTROS"

// cursor is where an incremental Mercos list stands: every record changed before T is
// done, and so are the records changed within second T whose ids are in IDs.
// ultima_alteracao has one-second resolution and a page can end mid-second, so the next
// request asks from T again and skips the ids already seen: nothing in that second is
// lost or delivered twice.
type cursor struct {
	T   string  `json:"t"` // "2006-01-02 15:04:05", Brazil time, as Mercos writes it
	IDs []int64 `json:"ids,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads an opaque cursor; "" starts at since.
func decodeCursor(s, since string) (cursor, error) {
	if s == "" {
		return cursor{T: since}, nil
	}
	if len(s) > 1<<20 {
		return cursor{}, fmt.Errorf("cursor too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, fmt.Errorf("cursor is not base64url")
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, fmt.Errorf("cursor is not JSON")
	}
	if _, ok := timeKey(c.T); !ok {
		return cursor{}, fmt.Errorf("cursor time %q is not YYYY-MM-DD HH:MM:SS", truncate(c.T, 30))
	}
	c.T, _ = timeKey(c.T)
	return c, nil
}

// timeKey normalises a Mercos timestamp to "2006-01-02 15:04:05" (comparable as text).
func timeKey(v string) (string, bool) {
	v = strings.Replace(strings.TrimSpace(v), "T", " ", 1)
	if len(v) > 19 {
		v = v[:19] // fractional seconds or zone suffix, if any
	}
	if _, err := time.Parse(time.DateTime, v); err != nil {
		return "", false
	}
	return v, true
}

// record is one list entry: its id, change time and raw JSON.
type record struct {
	id  int64
	ts  string
	raw json.RawMessage
}

// page fetches one page of an incremental list from cur and returns the records not seen
// before, the cursor after them, and whether Mercos limited the page (more to read now).
func (c *Connector) page(ctx context.Context, conn domain.Connection, s settings, op, path string, cur cursor, extra url.Values) ([]record, cursor, bool, error) {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	from := cur.T
	if !s.inclusive { // the server reads alterado_apos as ">": ask a second earlier
		if t, err := time.Parse(time.DateTime, cur.T); err == nil {
			from = t.Add(-time.Second).Format(time.DateTime)
		}
	}
	q.Set("alterado_apos", strings.Replace(from, " ", "T", 1))
	r := request{op: op, method: http.MethodGet, path: path, query: q}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return nil, cur, false, err
	}
	recs, next, err := filterPage(resp.body, cur)
	if err != nil {
		return nil, cur, false, transient(op, "GET %s: %v", path, err)
	}
	more := strings.TrimSpace(resp.header.Get(limitedHeader)) == "1"
	if more && len(recs) == 0 {
		return nil, cur, false, permanent(op, "GET %s: Mercos limited a page whose records all changed in second %s and were seen already; "+
			"more records share that second than fit a page (raise setting page_size where the route takes registros_por_pagina)", path, cur.T)
	}
	return recs, next, more, nil
}

// filterPage parses a list body and applies the cursor (pure, for tests and fuzzing).
func filterPage(body []byte, cur cursor) ([]record, cursor, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, cur, fmt.Errorf("body is not a JSON list (%s)", snippet(body))
	}
	seen := make(map[int64]bool, len(cur.IDs))
	for _, id := range cur.IDs {
		seen[id] = true
	}
	next := cursor{T: cur.T, IDs: slices.Clone(cur.IDs)}
	var out []record
	for i, raw := range raws {
		var head struct {
			ID              json.Number `json:"id"`
			UltimaAlteracao string      `json:"ultima_alteracao"`
		}
		if json.Unmarshal(raw, &head) != nil {
			return nil, cur, fmt.Errorf("record %d is not an object with id and ultima_alteracao", i)
		}
		id, err := head.ID.Int64()
		if err != nil || id <= 0 {
			return nil, cur, fmt.Errorf("record %d has no valid id", i)
		}
		ts, ok := timeKey(head.UltimaAlteracao)
		if !ok {
			return nil, cur, fmt.Errorf("record %d (id %d) has no valid ultima_alteracao", i, id)
		}
		if ts < cur.T || (ts == cur.T && seen[id]) {
			continue // read on an earlier page
		}
		out = append(out, record{id: id, ts: ts, raw: raw})
		switch {
		case ts > next.T:
			next = cursor{T: ts, IDs: []int64{id}}
		case ts == next.T && !slices.Contains(next.IDs, id):
			next.IDs = append(next.IDs, id)
		}
	}
	return out, next, nil
}

// productJSON is a /v1/produtos record.
type productJSON struct {
	ID          json.Number  `json:"id"`
	Codigo      string       `json:"codigo"`
	Nome        string       `json:"nome"`
	PrecoTabela *json.Number `json:"preco_tabela"`
	Saldo       *json.Number `json:"saldo_estoque"`
	Ativo       *bool        `json:"ativo"`
	Excluido    bool         `json:"excluido"`
	CategoriaID json.Number  `json:"categoria_id"`
	Observacoes string       `json:"observacoes"`
	Grade       []struct {
		ID       json.Number       `json:"id"`
		Codigo   string            `json:"codigo"`
		Saldo    *json.Number      `json:"saldo_estoque"`
		Ativo    *bool             `json:"ativo"`
		Excluido bool              `json:"excluido"`
		Nomes    []json.RawMessage `json:"itens_variacoes_nomes"`
	} `json:"produtos_grade"`
}

// productRef is what lookups need of a product or grid child.
type productRef struct {
	ID, ParentID int64
	Codigo, Nome string
	Variation    map[string]string
	Price, Stock *decimal.Decimal
	Grid         bool // a grid parent (stock lives on its children)
	Excluido     bool
	Category     string
}

func decPtr(n *json.Number) *decimal.Decimal {
	if n == nil {
		return nil
	}
	d, err := decimal.NewFromString(n.String())
	if err != nil {
		return nil
	}
	return &d
}

// productRefs flattens a product record into the product and its grid children.
func productRefs(raw json.RawMessage) []productRef {
	var p productJSON
	if json.Unmarshal(raw, &p) != nil {
		return nil
	}
	id, err := p.ID.Int64()
	if err != nil || id <= 0 {
		return nil
	}
	parent := productRef{ID: id, Codigo: strings.TrimSpace(p.Codigo), Nome: strings.TrimSpace(p.Nome),
		Price: decPtr(p.PrecoTabela), Stock: decPtr(p.Saldo), Grid: len(p.Grade) > 0, Excluido: p.Excluido,
		Category: p.CategoriaID.String()}
	out := []productRef{parent}
	for _, g := range p.Grade {
		gid, err := g.ID.Int64()
		if err != nil || gid <= 0 {
			continue
		}
		vars := map[string]string{}
		for _, n := range g.Nomes {
			var m map[string]string
			if json.Unmarshal(n, &m) == nil {
				for k, v := range m {
					vars[k] = v
				}
			}
		}
		out = append(out, productRef{ID: gid, ParentID: id, Codigo: strings.TrimSpace(g.Codigo), Nome: parent.Nome,
			Variation: vars, Price: parent.Price, Stock: decPtr(g.Saldo), Excluido: g.Excluido || p.Excluido})
	}
	return out
}

// rememberProducts merges refs into the connection's lookup for order lines.
func (c *Connector) rememberProducts(conn domain.Connection, s settings, refs map[int64]productRef) {
	st := c.state(conn, s)
	st.prodMu.Lock()
	if st.products == nil {
		st.products = map[int64]productRef{}
	}
	for id, r := range refs {
		st.products[id] = r
	}
	st.prodMu.Unlock()
}

// ListCatalog reads one page of /v1/produtos: products without grid as one item, grid
// products as one item per child. Deleted records are skipped.
func (c *Connector) ListCatalog(ctx context.Context, conn domain.Connection, cursorStr string) (platform.CatalogPage, error) {
	s, err := c.settings(conn)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	cur, err := decodeCursor(cursorStr, Epoch)
	if err != nil {
		return platform.CatalogPage{}, permanent("list_catalog", "%v", err)
	}
	recs, next, more, err := c.page(ctx, conn, s, "list_catalog", "/v1/produtos", cur, nil)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	page := platform.CatalogPage{Items: []platform.CatalogItem{}}
	refs := map[int64]productRef{}
	for _, rec := range recs {
		all := productRefs(rec.raw)
		for _, r := range all {
			refs[r.ID] = r
		}
		if len(all) == 0 || all[0].Excluido {
			continue
		}
		parent := all[0]
		if !parent.Grid {
			page.Items = append(page.Items, catalogItem(parent, parent, s.currency))
			continue
		}
		for _, child := range all[1:] {
			if !child.Excluido {
				page.Items = append(page.Items, catalogItem(parent, child, s.currency))
			}
		}
	}
	c.rememberProducts(conn, s, refs)
	if more {
		page.Next = next.encode()
	}
	return page, nil
}

func catalogItem(parent, r productRef, currency string) platform.CatalogItem {
	it := platform.CatalogItem{Name: r.Nome, Category: parent.Category}
	it.ProductID = strconv.FormatInt(parent.ID, 10)
	it.SKU = r.Codigo
	if r.ParentID != 0 {
		it.VariantID = strconv.FormatInt(r.ID, 10)
		if it.SKU == "" {
			it.SKU = parent.Codigo
		}
		it.Attributes = r.Variation
		names := make([]string, 0, len(r.Variation))
		for _, k := range slices.Sorted(mapKeys(r.Variation)) {
			names = append(names, r.Variation[k])
		}
		if len(names) > 0 {
			it.Name = r.Nome + " " + strings.Join(names, " ")
		}
	}
	if it.Category == "0" {
		it.Category = ""
	}
	if r.Stock != nil {
		n := r.Stock.IntPart()
		it.Stock = &n
	}
	if parent.Price != nil {
		it.Price = &domain.Money{Amount: *parent.Price, Currency: currency}
	}
	return it
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// refreshProducts brings the connection's product lookup up to date (incrementally).
func (c *Connector) refreshProducts(ctx context.Context, conn domain.Connection, s settings, op string) error {
	st := c.state(conn, s)
	st.prodMu.Lock()
	curStr := st.prodCursor
	st.prodMu.Unlock()
	cur, err := decodeCursor(curStr, Epoch)
	if err != nil {
		cur = cursor{T: Epoch}
	}
	for range maxPages {
		recs, next, more, err := c.page(ctx, conn, s, op, "/v1/produtos", cur, nil)
		if err != nil {
			return err
		}
		refs := map[int64]productRef{}
		for _, rec := range recs {
			for _, r := range productRefs(rec.raw) {
				refs[r.ID] = r
			}
		}
		c.rememberProducts(conn, s, refs)
		cur = next
		st.prodMu.Lock()
		st.prodCursor = cur.encode()
		st.prodMu.Unlock()
		if !more {
			return nil
		}
	}
	return nil
}

// refreshCustomers brings the connection's customer lookup up to date (incrementally).
func (c *Connector) refreshCustomers(ctx context.Context, conn domain.Connection, s settings, op string) error {
	st := c.state(conn, s)
	st.custMu.Lock()
	curStr := st.custCursor
	st.custMu.Unlock()
	cur, err := decodeCursor(curStr, Epoch)
	if err != nil {
		cur = cursor{T: Epoch}
	}
	for range maxPages {
		recs, next, more, err := c.page(ctx, conn, s, op, "/v1/clientes", cur, nil)
		if err != nil {
			return err
		}
		st.custMu.Lock()
		if st.customers == nil {
			st.customers = map[int64]clienteJSON{}
		}
		for _, rec := range recs {
			var cl clienteJSON
			if json.Unmarshal(bytes.TrimSpace(rec.raw), &cl) == nil {
				st.customers[rec.id] = cl
			}
		}
		st.custCursor = next.encode()
		st.custMu.Unlock()
		cur = next
		if !more {
			return nil
		}
	}
	return nil
}
