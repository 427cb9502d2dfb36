package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

// donePhase is the cursor of a job whose pages are all read (only finishing is left), so
// a crash after the last page reads nothing twice.
const donePhase = "done:"

// custWork links the store's customers of one Run to ERP customers, by document (digits
// only) and then e-mail (lower-case). A link carries PushedVersion 0, so the next ERP
// change of the customer updates the store's record instead of creating a duplicate.
type custWork struct {
	s       *Service
	conn    domain.Connection
	job     *store.Job
	rep     *Customers
	byDoc   map[string][]string
	byEmail map[string][]string
}

func (s *Service) syncCustomers(ctx context.Context, conn domain.Connection, j *store.Job, rep *Report, lister platform.CustomerLister) error {
	if j.Cursor == donePhase {
		return nil
	}
	if rep.Customers == nil {
		rep.Customers = &Customers{}
	}
	w := &custWork{s: s, conn: conn, job: j, rep: rep.Customers}
	if err := w.index(ctx); err != nil {
		return err
	}
	cur := strings.TrimPrefix(j.Cursor, customersPhase)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("first sync of %s stopped after %d pages: %w", conn.ID, rep.Pages, err)
		}
		page, err := lister.ListCustomers(ctx, conn, cur)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("first sync of %s stopped on page %d: %w (%v)", conn.ID, rep.Pages+1, cerr, err)
			}
			return fmt.Errorf("list customers of %s (page %d): %w", conn.ID, rep.Pages+1, err)
		}
		for _, pc := range page.Customers {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("first sync of %s stopped on page %d: %w", conn.ID, rep.Pages+1, err)
			}
			w.handle(ctx, pc)
		}
		rep.Pages++
		next := donePhase
		if page.Next != "" {
			if page.Next == cur {
				return fmt.Errorf("list customers of %s: cursor %q did not advance", conn.ID, cur)
			}
			next = customersPhase + page.Next
		}
		if err := s.progress(ctx, j, rep, next); err != nil {
			return err
		}
		if page.Next == "" {
			return nil
		}
		cur = page.Next
	}
}

func emailKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func (w *custWork) index(ctx context.Context) error {
	w.byDoc, w.byEmail = map[string][]string{}, map[string][]string{}
	put := func(m map[string][]string, k, id string) {
		if k != "" && !slices.Contains(m[k], id) {
			m[k] = append(m[k], id)
		}
	}
	cursor := ""
	for {
		recs, next, err := w.s.Store.ListCustomers(ctx, w.conn.Tenant, cursor, w.s.pageSize())
		if err != nil {
			return fmt.Errorf("index the ERP customers of %s: %w", w.conn.Tenant, err)
		}
		for _, r := range recs {
			put(w.byDoc, domain.Digits(r.Customer.Document), r.CustomerID)
			put(w.byEmail, emailKey(r.Customer.Email), r.CustomerID)
		}
		if next == "" {
			return nil
		}
		if next == cursor {
			return fmt.Errorf("index the ERP customers of %s: cursor %q did not advance", w.conn.Tenant, cursor)
		}
		cursor = next
	}
}

func (w *custWork) entry(pc platform.PlatformCustomer) CustomerEntry {
	return CustomerEntry{PlatformID: pc.PlatformID, Name: pc.Customer.Name, Document: maskDocument(domain.Digits(pc.Customer.Document))}
}

func (w *custWork) handle(ctx context.Context, pc platform.PlatformCustomer) {
	c := w.rep
	c.Checked++
	var by string
	var cands []string
	if d := domain.Digits(pc.Customer.Document); d != "" && len(w.byDoc[d]) > 0 {
		by, cands = ByDocument, sorted(w.byDoc[d])
	} else if e := emailKey(pc.Customer.Email); e != "" && len(w.byEmail[e]) > 0 {
		by, cands = ByEmail, sorted(w.byEmail[e])
	}
	switch {
	case pc.PlatformID == "":
		w.fail(pc, errors.New("the customer has no platform id"))
	case len(cands) == 0:
		c.Unmatched++
		c.UnmatchedItems = add(c.UnmatchedItems, w.entry(pc))
	case len(cands) > 1:
		e := w.entry(pc)
		e.MatchedBy, e.Candidates = by, cands
		c.Ambiguous++
		c.AmbiguousItems = add(c.AmbiguousItems, e)
	default:
		w.link(ctx, pc, cands[0], by)
	}
}

// link stores the link unless the ERP customer is linked to another store customer
// (ambiguous) or to this one already.
func (w *custWork) link(ctx context.Context, pc platform.PlatformCustomer, id, by string) {
	c := w.rep
	l, err := w.s.Store.GetCustomerLink(ctx, w.conn.Tenant, w.conn.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		l = store.CustomerLink{Tenant: w.conn.Tenant, ConnectionID: w.conn.ID, CustomerID: id, PlatformID: pc.PlatformID,
			PushedVersion: 0, PushedAt: w.s.now()}
		err = w.s.Store.PutCustomerLink(ctx, l)
		if errors.Is(err, store.ErrStale) { // a push linked it meanwhile: look at that link
			l, err = w.s.Store.GetCustomerLink(ctx, w.conn.Tenant, w.conn.ID, id)
		}
	}
	if err != nil {
		w.fail(pc, fmt.Errorf("link to ERP customer %s: %w", id, err))
		return
	}
	switch {
	case l.PlatformID != pc.PlatformID:
		e := w.entry(pc)
		e.MatchedBy, e.Candidates = ByLink, []string{id}
		c.Ambiguous++
		c.AmbiguousItems = add(c.AmbiguousItems, e)
	case l.PushedVersion != 0 || l.PushedAt.Before(w.job.StartedAt):
		c.AlreadyLinked++ // linked before this job (by a push or an earlier first sync)
	case by == ByDocument:
		c.LinkedByDocument++
	default:
		c.LinkedByEmail++
	}
}

func (w *custWork) fail(pc platform.PlatformCustomer, err error) {
	w.rep.Failed++
	e := w.entry(pc)
	e.Error = err.Error()
	w.rep.FailedItems = add(w.rep.FailedItems, e)
	w.s.log().Warn("first sync customer failed", "connection", w.conn.ID, "platform_id", pc.PlatformID, "err", err)
}
