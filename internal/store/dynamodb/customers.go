package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/store"
)

// GetCustomers reads the customers' STATE rows in BatchGetItem chunks of 100.
func (s *Store) GetCustomers(ctx context.Context, tenant string, ids []string) (map[string]store.CustomerRecord, error) {
	seen := make(map[string]bool, len(ids))
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, keyOf(custPK(tenant, id), skState))
		}
	}
	var (
		mu    sync.Mutex
		out   = make(map[string]store.CustomerRecord, len(keys))
		errs  []error
		total = (len(keys) + batchGetMax - 1) / batchGetMax
	)
	forEach(total, s.workers, func(i int) {
		chunk := keys[i*batchGetMax : min((i+1)*batchGetMax, len(keys))]
		rows, err := s.batchGet(ctx, chunk)
		recs := make([]store.CustomerRecord, 0, len(rows))
		for _, av := range rows {
			var r store.CustomerRecord
			if err == nil {
				_, err = decode(av, &r)
			}
			recs = append(recs, r)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, r := range recs {
			out[r.CustomerID] = r
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("get customers of %s: %w", tenant, err)
	}
	return out, nil
}

// PutCustomers runs each write as its own conditional PutItem (independent outcomes).
func (s *Store) PutCustomers(ctx context.Context, writes []store.CustomerWrite) ([]error, error) {
	errs := make([]error, len(writes))
	forEach(len(writes), s.workers, func(i int) {
		errs[i] = s.putCustomer(ctx, writes[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("put customers: %w", err)
	}
	return errs, nil
}

func (s *Store) putCustomer(ctx context.Context, w store.CustomerWrite) error {
	if err := store.ValidateCustomerWrite(w); err != nil {
		return err
	}
	r := w.Record
	cond := expression.AttributeNotExists(expression.Name("pk"))
	if w.ExpectedRev != 0 {
		cond = expression.Name("rev").Equal(expression.Value(w.ExpectedRev))
	}
	it, err := newItem(custPK(r.Tenant, r.CustomerID), skState, r.Rev, r)
	if err != nil {
		return fmt.Errorf("put customer %s/%s: %w", r.Tenant, r.CustomerID, err)
	}
	customerListing.index(&it, r.Tenant, r.CustomerID)
	err = s.putRowIf(ctx, it, nil, cond)
	if isConditionFailed(err) {
		return fmt.Errorf("customer %s/%s at rev %d: %w", r.Tenant, r.CustomerID, w.ExpectedRev, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put customer %s/%s: %w", r.Tenant, r.CustomerID, err)
	}
	return nil
}

// GetCustomerLink reads a customer's link on a connection.
func (s *Store) GetCustomerLink(ctx context.Context, tenant, connectionID, customerID string) (store.CustomerLink, error) {
	var l store.CustomerLink
	if _, err := s.getItem(ctx, custPK(tenant, customerID), linkSK(connectionID), &l); err != nil {
		return store.CustomerLink{}, fmt.Errorf("get customer link %s/%s: %w", connectionID, customerID, err)
	}
	return l, nil
}

// PutCustomerLink stores l unless a higher PushedVersion is stored (the row's rev holds
// the pushed version); an equal version overwrites.
func (s *Store) PutCustomerLink(ctx context.Context, l store.CustomerLink) error {
	if l.Tenant == "" || l.ConnectionID == "" || l.CustomerID == "" {
		return fmt.Errorf("put customer link: tenant, connection and customer id are required")
	}
	v := int64(l.PushedVersion)
	cond := expression.AttributeNotExists(expression.Name("pk")).
		Or(expression.Name("rev").LessThanEqual(expression.Value(v)))
	err := s.putIf(ctx, custPK(l.Tenant, l.CustomerID), linkSK(l.ConnectionID), v, l, cond)
	if isConditionFailed(err) {
		return fmt.Errorf("put customer link %s/%s version %d: %w", l.ConnectionID, l.CustomerID, l.PushedVersion, store.ErrStale)
	}
	if err != nil {
		return fmt.Errorf("put customer link %s/%s: %w", l.ConnectionID, l.CustomerID, err)
	}
	return nil
}
