package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// verdict is what the hub makes of one platform order version.
type verdict struct {
	state      domain.OrderState
	lines      []domain.ResolvedLine
	rejections []domain.OrderRejection
	// reserve is the quantity to hold per SKU.
	reserve map[string]int64
}

// judge resolves the lines to ERP SKUs and applies the connection's rules. prevReserved
// is what this order holds already, so re-judging never counts the order against itself.
func (s *Service) judge(ctx context.Context, conn domain.Connection, o domain.Order, prevReserved map[string]int64) (verdict, error) {
	action := conn.Rules.StatusMap.Decide(o.PlatformStatus)
	switch action {
	case domain.ActionCancel:
		return verdict{state: domain.OrderCancelled}, nil
	case domain.ActionReject:
		return verdict{state: domain.OrderRejected, rejections: []domain.OrderRejection{{Line: -1, Code: domain.RejectStatusRejected,
			Message: fmt.Sprintf("platform status %q is set to reject in the connection's status map", o.PlatformStatus)}}}, nil
	case domain.ActionWait:
		return verdict{state: domain.OrderWaiting, rejections: []domain.OrderRejection{{Line: -1, Code: domain.RejectStatusNotImportable,
			Message: fmt.Sprintf("platform status %q does not import (status map imports %s); a later update can import it",
				o.PlatformStatus, strings.Join(conn.Rules.StatusMap.Import, ", "))}}}, nil
	}

	lines, unmapped, rejections, err := s.resolveLines(ctx, conn, o)
	if err != nil {
		return verdict{}, err
	}
	if !hasAddress(o) {
		rejections = append(rejections, domain.OrderRejection{Line: -1, Code: domain.RejectMissingAddress,
			Message: "the order has no shipping or billing address (street or postal code, and city)"})
	}
	if len(o.Lines) == 0 {
		rejections = append(rejections, domain.OrderRejection{Line: -1, Code: domain.RejectNoLines, Message: "the order has no lines"})
	}
	skus := make([]string, 0, len(lines))
	for _, l := range lines {
		skus = append(skus, l.SKU)
	}
	states, err := s.Store.GetSKUs(ctx, conn.Tenant, uniq(skus))
	if err != nil {
		return verdict{}, fmt.Errorf("read SKUs: %w", err)
	}
	want := map[string]int64{}
	var known []domain.ResolvedLine
	for _, l := range lines {
		st, ok := states[l.SKU]
		if !ok || !st.Known() {
			msg := fmt.Sprintf("line %d: SKU %q has no product in the ERP catalogue", l.Line+1, l.SKU)
			if ids, missed := unmapped[l.Line]; missed {
				// The line's own SKU was only the fallback: the mapping is what is missing.
				msg = fmt.Sprintf("line %d: no mapping on connection %s for platform product %s, and the line's own SKU %q has no product in the ERP catalogue",
					l.Line+1, conn.ID, ids, l.SKU)
			}
			rejections = append(rejections, domain.OrderRejection{Line: l.Line, SKU: l.SKU, Code: domain.RejectUnknownProduct, Message: msg})
			continue
		}
		l.Supplier = st.Product.Supplier
		want[l.SKU] += l.Quantity
		known = append(known, l)
	}
	// Stock: what the connection's warehouses hold, less other orders' reservations.
	short := map[string]int64{}
	for sku, qty := range want {
		free := onHand(states[sku], conn.Rules.Warehouses) - (states[sku].ReservedQuantity() - prevReserved[sku])
		if free < qty {
			short[sku] = qty - max(free, 0)
		}
	}
	for i := range known {
		l := &known[i]
		if gap := short[l.SKU]; gap > 0 {
			take := min(gap, l.Quantity)
			l.Shortfall = take
			short[l.SKU] -= take
			if !conn.Rules.AllowBackorders {
				rejections = append(rejections, domain.OrderRejection{Line: l.Line, SKU: l.SKU, Code: domain.RejectNoStock,
					Message: fmt.Sprintf("line %d: SKU %q is short by %d and the connection does not allow backorders", l.Line+1, l.SKU, take)})
			}
		}
	}
	if len(rejections) > 0 {
		return verdict{state: domain.OrderRejected, lines: known, rejections: rejections}, nil
	}
	st := domain.OrderAccepted
	if action == domain.ActionHold {
		st = domain.OrderWaiting
	}
	return verdict{state: st, lines: known, reserve: want}, nil
}

// resolveLines maps each line to an ERP SKU: the connection's mapping of the platform
// product first (platform ids are authoritative), then the SKU the line carries.
// unmapped names, per line index, the platform ids that found no mapping.
func (s *Service) resolveLines(ctx context.Context, conn domain.Connection, o domain.Order) (lines []domain.ResolvedLine,
	unmapped map[int]string, rejections []domain.OrderRejection, err error) {
	unmapped = map[int]string{}
	for i, l := range o.Lines {
		sku := ""
		if l.ProductID != "" {
			m, err := s.Store.MappingByPlatformID(ctx, conn.ID, l.ProductID, l.VariantID)
			switch {
			case err == nil:
				sku = m.SKU
			case errors.Is(err, store.ErrNotFound):
				unmapped[i] = strings.TrimSuffix(l.ProductID+"/"+l.VariantID, "/")
			default:
				return nil, nil, nil, fmt.Errorf("read mapping of %s/%s: %w", l.ProductID, l.VariantID, err)
			}
		}
		if sku == "" {
			sku = strings.TrimSpace(l.SKU)
		}
		if sku == "" {
			rejections = append(rejections, domain.OrderRejection{Line: i, Code: domain.RejectUnmappedSKU,
				Message: fmt.Sprintf("line %d (%s, platform product %s/%s) is not mapped to an ERP SKU and carries none",
					i+1, l.Name, l.ProductID, l.VariantID)})
			continue
		}
		if l.Quantity <= 0 {
			continue
		}
		lines = append(lines, domain.ResolvedLine{Line: i, SKU: sku, Quantity: l.Quantity})
	}
	return lines, unmapped, rejections, nil
}

// onHand sums the warehouses feeding the connection (all when none are listed).
func onHand(st domain.SKUState, warehouses []string) int64 {
	var n int64
	for name, lvl := range st.Stock {
		if len(warehouses) == 0 || slices.Contains(warehouses, name) {
			n += lvl.Quantity
		}
	}
	return n
}

func hasAddress(o domain.Order) bool {
	for _, a := range []*domain.Address{o.Shipping, o.Billing} {
		if a != nil && (strings.TrimSpace(a.Street) != "" || strings.TrimSpace(a.PostalCode) != "") && strings.TrimSpace(a.City) != "" {
			return true
		}
	}
	return false
}

func uniq(xs []string) []string {
	slices.Sort(xs)
	return slices.Compact(xs)
}
