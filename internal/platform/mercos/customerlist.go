package mercos

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// ListCustomers reads one page of /v1/clientes (the incremental list, from the beginning
// when cursor is ""), mapped like an order's buyer. Deleted clients are skipped.
func (c *Connector) ListCustomers(ctx context.Context, conn domain.Connection, cursorStr string) (platform.CustomerPage, error) {
	const op = "list_customers"
	s, err := c.settings(conn)
	if err != nil {
		return platform.CustomerPage{}, err
	}
	cur, err := decodeCursor(cursorStr, Epoch)
	if err != nil {
		return platform.CustomerPage{}, permanent(op, "%v", err)
	}
	recs, next, more, err := c.page(ctx, conn, s, op, "/v1/clientes", cur, nil)
	if err != nil {
		return platform.CustomerPage{}, err
	}
	page := platform.CustomerPage{Customers: []platform.PlatformCustomer{}}
	for _, rec := range recs {
		var cl clienteJSON
		if err := json.Unmarshal(bytes.TrimSpace(rec.raw), &cl); err != nil {
			return platform.CustomerPage{}, transient(op, "GET /v1/clientes: client %d: %v", rec.id, err)
		}
		if cl.Excluido {
			continue
		}
		page.Customers = append(page.Customers, platform.PlatformCustomer{
			PlatformID: strconv.FormatInt(rec.id, 10), Customer: customerFrom(cl)})
	}
	if more {
		page.Next = next.encode()
	}
	return page, nil
}
