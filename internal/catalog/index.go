package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// index is the ERP side of the match, built from every SKU of the tenant once per Run:
// normalised code → ERP SKUs carrying it.
//
// Normalisation: codes are trimmed and compared case-insensitively. EANs and additional
// codes made only of digits also ignore leading zeros, since the same GTIN is written as
// 8, 12, 13 or 14 digits zero-padded; SKUs keep their zeros (in an ERP, "0123" and "123"
// may well be two products).
type index struct {
	bySKU, byEAN, byCode map[string][]string
	// imported holds the SKUs this job created (seen again when a crash made it re-read
	// a page), so they are counted as imported rather than as matched by SKU.
	imported map[string]bool
}

func skuKey(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

func codeKey(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return s
	}
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t
	}
	return "0"
}

func (s *Service) buildIndex(ctx context.Context, j *store.Job) (*index, error) {
	x := &index{bySKU: map[string][]string{}, byEAN: map[string][]string{}, byCode: map[string][]string{}, imported: map[string]bool{}}
	cursor := ""
	for {
		states, next, err := s.Store.ListSKUs(ctx, j.Tenant, cursor, s.pageSize())
		if err != nil {
			return nil, fmt.Errorf("index the ERP products of %s: %w", j.Tenant, err)
		}
		for _, st := range states {
			x.add(st)
			// Only this job writes a first revision with a version-0 product and no stock
			// or price at or after its start.
			if st.Rev == 1 && st.Product != nil && st.Product.Version == 0 && len(st.Stock) == 0 &&
				st.Price == nil && !st.UpdatedAt.Before(j.StartedAt) {
				x.imported[st.SKU] = true
			}
		}
		if next == "" {
			return x, nil
		}
		if next == cursor {
			return nil, fmt.Errorf("index the ERP products of %s: cursor %q did not advance", j.Tenant, cursor)
		}
		cursor = next
	}
}

// add indexes one ERP SKU. SKUs without a product record (stock or price only) are
// indexed by SKU alone: they are ERP products all the same.
func (x *index) add(st domain.SKUState) {
	put := func(m map[string][]string, k string) {
		if k != "" && !slices.Contains(m[k], st.SKU) {
			m[k] = append(m[k], st.SKU)
		}
	}
	put(x.bySKU, skuKey(st.SKU))
	if p := st.Product; p != nil {
		put(x.byEAN, codeKey(p.EAN))
		for _, c := range p.AdditionalCodes {
			put(x.byCode, codeKey(c))
		}
	}
}

// match is what the index says about one store item: the ERP SKUs it matches, by which
// code. No candidates: unmatched; several: ambiguous.
type match struct {
	by, code   string
	candidates []string
}

// match tries the item's SKU among ERP SKUs, then its EAN among ERP EANs, then both
// among ERP additional codes; the first step with candidates decides.
func (x *index) match(sku, ean string) match {
	if k := skuKey(sku); k != "" && len(x.bySKU[k]) > 0 {
		return match{by: BySKU, code: sku, candidates: sorted(x.bySKU[k])}
	}
	if k := codeKey(ean); k != "" && len(x.byEAN[k]) > 0 {
		return match{by: ByEAN, code: ean, candidates: sorted(x.byEAN[k])}
	}
	var m match
	for _, c := range []string{sku, ean} {
		k := codeKey(c)
		if k == "" || len(x.byCode[k]) == 0 {
			continue
		}
		if m.code == "" {
			m.by, m.code = ByCode, c
		}
		for _, s := range x.byCode[k] {
			if !slices.Contains(m.candidates, s) {
				m.candidates = append(m.candidates, s)
			}
		}
	}
	slices.Sort(m.candidates)
	return m
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
