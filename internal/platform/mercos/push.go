package mercos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// maxStock is Mercos' documented ceiling for novo_saldo.
const maxStock = 9999999

// stockItem is one absolute balance for /v1/ajustar_estoque_em_lote.
type stockItem struct {
	idx int   // index into the Push updates
	id  int64 // produto_id: the product, or the grid child (produtos_grade[].id)
	qty int64
	sku string
}

// Push sends stock as batches of up to batch_size absolute balances (one POST
// /v1/ajustar_estoque_em_lote each) and price/catalogue data as PUT /v1/produtos/{id}.
// Mercos rejects a whole batch for one bad item; the bad item is isolated (named in the
// answer, or found by halving) and the rest retried. A 401 or 429 stops the call: the
// remaining updates get the same error, so the hub retries after the wait.
func (c *Connector) Push(ctx context.Context, conn domain.Connection, updates []platform.Update) []error {
	errs := make([]error, len(updates))
	s, err := c.settings(conn)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var stock []stockItem
	var writes []int
	for i, u := range updates {
		if u.Stock != nil {
			id, err := stockTarget(u)
			if err != nil {
				errs[i] = err
				continue
			}
			stock = append(stock, stockItem{idx: i, id: id, qty: *u.Stock, sku: u.SKU})
		}
		if u.Price != nil || u.Product != nil {
			writes = append(writes, i)
		}
	}
	var stop error // an Auth or RateLimited failure: everything after it fails the same way
	for start := 0; start < len(stock); start += s.batch {
		chunk := stock[start:min(start+s.batch, len(stock))]
		if stop != nil {
			for _, it := range chunk {
				errs[it.idx] = stop
			}
			continue
		}
		c.adjust(ctx, conn, s, chunk, errs, &stop)
	}
	for _, i := range writes {
		if errs[i] != nil {
			continue
		}
		if stop != nil {
			errs[i] = stop
			continue
		}
		if err := c.writeProduct(ctx, conn, s, updates[i]); err != nil {
			errs[i] = err
			if k := platform.AsError(err).Kind; k == platform.Auth || k == platform.RateLimited {
				stop = err
			}
		}
	}
	return errs
}

// stockTarget validates a stock update and returns the produto_id to adjust: the grid
// child when the mapping names one (Mercos rejects adjustments on a grid parent).
func stockTarget(u platform.Update) (int64, error) {
	idStr, what := u.ProductID, "product"
	if u.VariantID != "" {
		idStr, what = u.VariantID, "grid child (variant)"
	}
	id, ok := parseID(idStr)
	if !ok {
		return 0, permanent("push", "sku %s: invalid Mercos %s id %q", u.SKU, what, idStr)
	}
	if *u.Stock < 0 {
		return 0, permanent("push", "sku %s: negative stock %d", u.SKU, *u.Stock)
	}
	if *u.Stock > maxStock {
		return 0, permanent("push", "sku %s: stock %d above Mercos' maximum of %d", u.SKU, *u.Stock, maxStock)
	}
	return id, nil
}

type adjustJSON struct {
	ProdutoID int64 `json:"produto_id"`
	NovoSaldo int64 `json:"novo_saldo"`
}

// adjust posts one batch and fills errs for its items, isolating bad items.
func (c *Connector) adjust(ctx context.Context, conn domain.Connection, s settings, items []stockItem, errs []error, stop *error) {
	if len(items) == 0 {
		return
	}
	if *stop != nil {
		for _, it := range items {
			errs[it.idx] = *stop
		}
		return
	}
	body := make([]adjustJSON, len(items))
	for i, it := range items {
		body[i] = adjustJSON{ProdutoID: it.id, NovoSaldo: it.qty}
	}
	raw, _ := json.Marshal(body)
	r := request{op: "push", method: http.MethodPost, path: "/v1/ajustar_estoque_em_lote", body: raw}
	resp, err := c.do(ctx, conn, s, r)
	if err == nil {
		var echo []json.RawMessage
		if json.Unmarshal(resp.body, &echo) != nil {
			err = transient("push", "POST %s: HTTP %d with an unexpected body (%s)", r.path, resp.status, snippet(resp.body))
		}
	}
	if err == nil {
		return
	}
	pe := platform.AsError(err)
	switch {
	case pe.Kind == platform.Auth || pe.Kind == platform.RateLimited:
		*stop = err
		for _, it := range items {
			errs[it.idx] = err
		}
		return
	case pe.Kind != platform.Permanent:
		for _, it := range items {
			errs[it.idx] = err
		}
		return
	case len(items) == 1:
		errs[items[0].idx] = itemError(pe, items[0])
		return
	}
	// One bad item fails the batch: send the ones Mercos named alone, the rest together;
	// when it named none, halve the batch.
	var named, rest []stockItem
	mentioned := mentionedIDs(pe.Message)
	for _, it := range items {
		if mentioned[it.id] {
			named = append(named, it)
		} else {
			rest = append(rest, it)
		}
	}
	if len(named) == 0 || len(rest) == 0 {
		half := len(items) / 2
		named, rest = items[:half], items[half:]
		c.adjust(ctx, conn, s, named, errs, stop)
		c.adjust(ctx, conn, s, rest, errs, stop)
		return
	}
	for _, it := range named {
		c.adjust(ctx, conn, s, []stockItem{it}, errs, stop)
	}
	c.adjust(ctx, conn, s, rest, errs, stop)
}

func itemError(pe *platform.Error, it stockItem) error {
	e := *pe
	e.Message = fmt.Sprintf("sku %s (produto_id %d): %s", it.sku, it.id, pe.Message)
	return &e
}

var numberRE = regexp.MustCompile(`\d{1,18}`)

// mentionedIDs collects the numbers in an error message (candidate produto_ids).
func mentionedIDs(msg string) map[int64]bool {
	out := map[int64]bool{}
	for _, m := range numberRE.FindAllString(msg, 400) {
		if n, err := strconv.ParseInt(m, 10, 64); err == nil {
			out[n] = true
		}
	}
	return out
}

// writeProduct sends price and catalogue data with PUT /v1/produtos/{id}. Prices live on
// the product (preco_tabela, the base price table), so a grid child's price goes to its
// parent. Mercos has no cost or list-price field: those parts are left alone.
func (c *Connector) writeProduct(ctx context.Context, conn domain.Connection, s settings, u platform.Update) error {
	id, ok := parseID(u.ProductID)
	if !ok {
		return permanent("push", "sku %s: invalid Mercos product id %q", u.SKU, u.ProductID)
	}
	fields := map[string]any{}
	if u.Price != nil {
		p, err := money(*u.Price, s.currency)
		if err != nil {
			return permanent("push", "sku %s: price: %v", u.SKU, err)
		}
		fields["preco_tabela"] = p
	}
	if p := u.Product; p != nil {
		if name := strings.TrimSpace(p.Name); name != "" {
			fields["nome"] = truncate(name, 100)
		}
		if u.VariantID == "" && strings.TrimSpace(u.SKU) != "" {
			fields["codigo"] = u.SKU
		}
		if p.Description != "" {
			fields["observacoes"] = p.Description
		}
		fields["ativo"] = p.Published
		if cat := strings.TrimSpace(p.Category); cat != "" {
			cid, err := c.category(ctx, conn, s, cat)
			if err != nil {
				return err
			}
			fields["categoria_id"] = cid
		}
	}
	if len(fields) == 0 {
		return nil
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return permanent("push", "sku %s: encoding body: %v", u.SKU, err)
	}
	r := request{op: "push", method: http.MethodPut, path: "/v1/produtos/" + strconv.FormatInt(id, 10), body: raw,
		notFound: fmt.Sprintf("product %d (sku %s) not found on Mercos", id, u.SKU)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		if pe := platform.AsError(err); pe.Kind == platform.Permanent && pe.StatusCode != http.StatusNotFound {
			e := *pe
			e.Message = "sku " + u.SKU + ": " + pe.Message
			return &e
		}
		return err
	}
	var ok2 map[string]json.RawMessage
	if json.Unmarshal(resp.body, &ok2) != nil {
		return transient("push", "PUT %s: HTTP %d with an unexpected body (%s)", r.path, resp.status, snippet(resp.body))
	}
	return nil
}

// category resolves a category name to its Mercos id, creating it when missing.
func (c *Connector) category(ctx context.Context, conn domain.Connection, s settings, name string) (int64, error) {
	st := c.state(conn, s)
	key := strings.ToLower(name)
	st.catMu.Lock()
	defer st.catMu.Unlock()
	if id, ok := st.cats[key]; ok && c.opts.Now().Sub(st.catsAt) < c.opts.CacheTTL {
		return id, nil
	}
	found := map[string]int64{}
	cur := cursor{T: Epoch}
	for range maxPages {
		recs, next, more, err := c.page(ctx, conn, s, "push", "/v1/categorias", cur, nil)
		if err != nil {
			return 0, err
		}
		for _, rec := range recs {
			var cat struct {
				Nome     string `json:"nome"`
				Excluido bool   `json:"excluido"`
			}
			if json.Unmarshal(rec.raw, &cat) == nil && !cat.Excluido && cat.Nome != "" {
				found[strings.ToLower(strings.TrimSpace(cat.Nome))] = rec.id
			}
		}
		cur = next
		if !more {
			break
		}
	}
	st.cats, st.catsAt = found, c.opts.Now()
	if id, ok := found[key]; ok {
		return id, nil
	}
	raw, _ := json.Marshal(map[string]string{"nome": name})
	r := request{op: "push", method: http.MethodPost, path: "/v1/categorias", body: raw}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return 0, err
	}
	id, ok := createdID(resp)
	if !ok {
		return 0, transient("push", "POST /v1/categorias: no MeusPedidosID header or id in the answer")
	}
	st.cats[key] = id
	return id, nil
}

// ReadBack reads stock and price of each target by walking the product list (Mercos
// blocks reads by id in production). Targets not found are left out, their errors joined.
func (c *Connector) ReadBack(ctx context.Context, conn domain.Connection, targets []platform.Target) ([]platform.Snapshot, error) {
	s, err := c.settings(conn)
	if err != nil {
		return nil, err
	}
	want := map[int64]bool{}
	for _, t := range targets {
		if id, ok := parseID(firstNonEmpty(t.VariantID, t.ProductID)); ok {
			want[id] = true
		}
	}
	refs := map[int64]productRef{}
	cur := cursor{T: Epoch}
	for range maxPages {
		recs, next, more, err := c.page(ctx, conn, s, "read_back", "/v1/produtos", cur, nil)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			for _, ref := range productRefs(rec.raw) {
				refs[ref.ID] = ref
			}
		}
		c.rememberProducts(conn, s, refs)
		cur = next
		if !more || allFound(want, refs) {
			break
		}
	}
	var out []platform.Snapshot
	var errs []error
	now := c.opts.Now().UTC()
	for _, t := range targets {
		idStr := firstNonEmpty(t.VariantID, t.ProductID)
		id, ok := parseID(idStr)
		ref, found := refs[id]
		if !ok || !found || ref.Excluido {
			errs = append(errs, permanent("read_back", "sku %s: product %s not found on Mercos", t.SKU, idStr))
			continue
		}
		snap := platform.Snapshot{Target: t, ReadAt: now}
		if ref.Stock != nil {
			n := ref.Stock.IntPart()
			snap.Stock = &n
		}
		price := ref.Price
		if ref.ParentID != 0 {
			price = refs[ref.ParentID].Price
		}
		if price != nil {
			snap.Price = &domain.Money{Amount: *price, Currency: s.currency}
		}
		out = append(out, snap)
	}
	return out, errors.Join(errs...)
}

func allFound(want map[int64]bool, refs map[int64]productRef) bool {
	for id := range want {
		if _, ok := refs[id]; !ok {
			return false
		}
	}
	return true
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
