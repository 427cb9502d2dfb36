package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

// A job's cursor says which phase it is in and where that phase's next page starts:
// "" or "products:<platform cursor>" for the catalogue, "customers:<platform cursor>" after it.
const (
	productsPhase  = "products:"
	customersPhase = "customers:"
)

// run works the job from its cursor. fatal says the connection cannot sync at all (the
// job should fail rather than wait to be resumed).
func (s *Service) run(ctx context.Context, j *store.Job, rep *Report) (fatal bool, err error) {
	conn, err := s.Store.GetConnection(ctx, j.ConnectionID)
	if err != nil {
		return false, fmt.Errorf("read connection %s: %w", j.ConnectionID, err)
	}
	switch {
	case conn.Tenant != j.Tenant:
		return true, fmt.Errorf("connection %s belongs to another tenant", conn.ID)
	case !conn.Enabled:
		return true, fmt.Errorf("connection %s is disabled", conn.ID)
	}
	reader, err := s.reader(conn)
	if err != nil {
		return true, err
	}
	rep.Platform = conn.Platform
	cursor := j.Cursor
	if cursor == "" || strings.HasPrefix(cursor, productsPhase) {
		idx, err := s.buildIndex(ctx, j)
		if err != nil {
			return false, err
		}
		w := &itemWork{s: s, conn: conn, job: j, idx: idx, rep: rep}
		cur := strings.TrimPrefix(cursor, productsPhase)
		for {
			if err := ctx.Err(); err != nil {
				return false, fmt.Errorf("first sync of %s stopped after %d pages: %w", conn.ID, rep.Pages, err)
			}
			page, err := reader.ListCatalog(ctx, conn, cur)
			if err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return false, fmt.Errorf("first sync of %s stopped on page %d: %w (%v)", conn.ID, rep.Pages+1, cerr, err)
				}
				return false, fmt.Errorf("list catalogue of %s (page %d): %w", conn.ID, rep.Pages+1, err)
			}
			for _, it := range page.Items {
				if err := ctx.Err(); err != nil {
					return false, fmt.Errorf("first sync of %s stopped on page %d: %w", conn.ID, rep.Pages+1, err)
				}
				w.handle(ctx, it)
			}
			rep.Pages++
			next := customersPhase
			if page.Next != "" {
				if page.Next == cur {
					return false, fmt.Errorf("list catalogue of %s: cursor %q did not advance", conn.ID, cur)
				}
				next = productsPhase + page.Next
			}
			if err := s.progress(ctx, j, rep, next); err != nil {
				return false, err
			}
			if page.Next == "" {
				break
			}
			cur = page.Next
		}
	}
	lister, ok := s.Connectors[conn.Platform].(platform.CustomerLister)
	if !ok {
		return false, nil
	}
	return false, s.syncCustomers(ctx, conn, j, rep, lister)
}

// addCategory remembers a category seen on the store (distinct, capped).
func addCategory(rep *Report, c string) {
	if c = strings.TrimSpace(c); c == "" || slices.Contains(rep.Categories, c) {
		return
	}
	rep.Categories = add(rep.Categories, c)
}
