package orders

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// upsertCustomer stores the buyer in the tenant's customers, always, even when the order
// is rejected (seed 002: the ERP keeps the customer). The id is the document when the
// platform gives one, else the e-mail, else the platform's own customer id, so one
// person buying on two stores is one customer. The platform's update time is the
// version: an older order never overwrites a newer address.
func (s *Service) upsertCustomer(ctx context.Context, conn domain.Connection, o domain.Order) (string, error) {
	id := customerKey(conn.ID, o.Customer)
	if id == "" {
		return "", nil
	}
	c := o.Customer
	c.Tenant = conn.Tenant
	if c.Address == nil {
		c.Address = firstAddress(o.Shipping, o.Billing)
	}
	version := domain.Version(o.UpdatedAt.UnixMilli())
	for round := 0; round < maxOrderRounds; round++ {
		got, err := s.Store.GetCustomers(ctx, conn.Tenant, []string{id})
		if err != nil {
			return "", fmt.Errorf("read customer: %w", err)
		}
		old, exists := got[id]
		if exists && old.Version >= version {
			return id, nil
		}
		rec := store.CustomerRecord{Tenant: conn.Tenant, CustomerID: id, Customer: c, Version: version,
			Rev: old.Rev + 1, UpdatedAt: s.now()}
		errs, err := s.Store.PutCustomers(ctx, []store.CustomerWrite{{Record: rec, ExpectedRev: old.Rev}})
		if err != nil {
			return "", fmt.Errorf("store customer: %w", err)
		}
		if errs[0] == nil {
			return id, nil
		}
		if !errors.Is(errs[0], store.ErrConflict) {
			return "", fmt.Errorf("store customer %s: %w", id, errs[0])
		}
	}
	return id, nil
}

func customerKey(connID string, c domain.Customer) string {
	var digits strings.Builder
	for _, r := range c.Document {
		if unicode.IsDigit(r) || unicode.IsLetter(r) {
			digits.WriteRune(unicode.ToUpper(r))
		}
	}
	key := ""
	switch {
	case digits.Len() > 0:
		key = "doc-" + digits.String()
	case strings.TrimSpace(c.Email) != "":
		key = "email-" + strings.ToLower(strings.TrimSpace(c.Email))
	case strings.TrimSpace(c.ExternalID) != "":
		key = "buyer-" + connID + "-" + strings.TrimSpace(c.ExternalID)
	}
	// Customer ids share the ERP's rules: no '#', at most 128 bytes.
	key = strings.ReplaceAll(key, "#", "_")
	if len(key) > 128 {
		key = key[:128]
	}
	return key
}

func firstAddress(as ...*domain.Address) *domain.Address {
	for _, a := range as {
		if a != nil {
			cp := *a
			return &cp
		}
	}
	return nil
}
