// Package store declares the Store port: durable state for tenants, connections, the
// per-SKU inputs, mappings, desired and pushed states and idempotency records.
// Implementations live in sqlite/ (embedded) and dynamodb/ (AWS); storetest/ is the
// contract suite both must pass.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
)

var (
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("not found")
	// ErrConflict: an optimistic-lock condition failed (someone else wrote first); re-read and retry.
	ErrConflict = errors.New("conflict: record changed concurrently")
	// ErrStale: the write carries a revision not newer than the stored one; it was ignored.
	ErrStale = errors.New("stale: a newer revision is stored")
)

// SKUWrite is one optimistic write of a SKU aggregate: it succeeds only if the stored
// Rev still equals ExpectedRev (0 means "must not exist yet"). State.Rev must be ExpectedRev+1.
type SKUWrite struct {
	State       domain.SKUState
	ExpectedRev int64
}

// IdempotencyRecord is the stored outcome of a request made with an Idempotency-Key.
type IdempotencyRecord struct {
	Key         string    `json:"key"`
	RequestHash string    `json:"request_hash"`
	Status      string    `json:"status"` // IdemInProgress or IdemCompleted
	StatusCode  int       `json:"status_code"`
	Response    []byte    `json:"response,omitempty"`
	ExpiresAt   time.Time `json:"expires_at"`
	// Owner is the claim's holder, set on the record a winning claim returns: renewing,
	// completing and releasing need it, so a holder whose lease lapsed (and was taken
	// over) can no longer touch the key.
	Owner string `json:"-"`
}

const (
	IdemInProgress = "in_progress"
	IdemCompleted  = "completed"
)

// Store is the full port. Use-case packages declare the narrower interfaces they consume.
type Store interface {
	PutTenant(ctx context.Context, t domain.Tenant) error
	GetTenant(ctx context.Context, id string) (domain.Tenant, error)
	// TenantByAPIKeyHash finds the tenant owning a key by its stored hash (keys.Hasher).
	TenantByAPIKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error)
	// TenantByOperatorKeyHash finds the tenant whose operator key hashes to keyHash.
	TenantByOperatorKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error)
	// ListTenants returns every tenant ordered by id (scheduled jobs walk them all).
	ListTenants(ctx context.Context) ([]domain.Tenant, error)

	PutConnection(ctx context.Context, c domain.Connection) error
	GetConnection(ctx context.Context, id string) (domain.Connection, error)
	ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error)

	// GetSKUs returns the aggregates that exist among skus, keyed by SKU.
	GetSKUs(ctx context.Context, tenant string, skus []string) (map[string]domain.SKUState, error)
	// ListSKUs pages through a tenant's SKU aggregates: every SKU exactly once over the
	// pages, in an order of the backend's choosing. cursor "" starts; next "" is the end.
	// limit bounds a page (a page may hold fewer, even none, before the end).
	ListSKUs(ctx context.Context, tenant, cursor string, limit int) (skus []domain.SKUState, next string, err error)
	// PutSKUs applies each write independently; errs[i] is nil, ErrConflict or another error.
	PutSKUs(ctx context.Context, writes []SKUWrite) (errs []error, err error)

	PutMapping(ctx context.Context, m domain.Mapping) error
	GetMapping(ctx context.Context, tenant, connectionID, sku string) (domain.Mapping, error)
	// ListMappings returns every connection's mapping of one SKU.
	ListMappings(ctx context.Context, tenant, sku string) ([]domain.Mapping, error)
	// MappingByPlatformID finds the SKU mapped to a platform product (and variant, may be "").
	MappingByPlatformID(ctx context.Context, connectionID, productID, variantID string) (domain.Mapping, error)

	// PutDesired stores d unless a state with Rev >= d.Rev is stored (then ErrStale).
	PutDesired(ctx context.Context, d domain.DesiredState) error
	// PutDesiredMany applies PutDesired to each state independently (one transaction where
	// the backend has them); errs[i] is nil, ErrStale or another error.
	PutDesiredMany(ctx context.Context, ds []domain.DesiredState) (errs []error, err error)
	GetDesired(ctx context.Context, tenant, connectionID, sku string) (domain.DesiredState, error)
	// PutPushed stores p unless a state with Rev > p.Rev is stored (then ErrStale). Equal Rev overwrites.
	PutPushed(ctx context.Context, p domain.PushedState) error
	GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error)

	// ClaimIdempotency creates an in-progress record for key, live for lease, unless a
	// live one exists; it returns the existing record and false when one does. Expired
	// records (a lapsed lease or an outcome past its TTL) are replaced. The claim is a
	// lease: its holder renews it while working, so a holder that dies frees the key
	// within one lease.
	ClaimIdempotency(ctx context.Context, key, requestHash string, lease time.Duration) (IdempotencyRecord, bool, error)
	// RenewIdempotency extends owner's in-progress claim to now+lease; ErrNotFound when
	// the claim is no longer owner's live one (it lapsed and was taken, or completed).
	RenewIdempotency(ctx context.Context, key, owner string, lease time.Duration) error
	// CompleteIdempotency stores the response of owner's live claim, kept for ttl;
	// ErrNotFound when owner no longer holds it.
	CompleteIdempotency(ctx context.Context, key, owner string, statusCode int, response []byte, ttl time.Duration) error
	// ReleaseIdempotency deletes owner's in-progress claim whose request failed, so a retry
	// runs again; anything else under key (another holder's claim, an outcome) stays.
	ReleaseIdempotency(ctx context.Context, key, owner string) error

	CustomerStore
	OrderStore
	JobStore
	DeadLetterStore
}

// CustomerRecord is the stored ERP customer of a tenant. Version is the ERP's version
// (moves only forward); Rev guards optimistic writes like a SKU aggregate's.
type CustomerRecord struct {
	Tenant     string          `json:"tenant"`
	CustomerID string          `json:"customer_id"`
	Customer   domain.Customer `json:"customer"`
	Version    domain.Version  `json:"version"`
	Rev        int64           `json:"rev"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// CustomerWrite is one optimistic customer write: it succeeds only if the stored Rev still
// equals ExpectedRev (0 means "must not exist yet"). Record.Rev must be ExpectedRev+1.
type CustomerWrite struct {
	Record      CustomerRecord
	ExpectedRev int64
}

// CustomerLink remembers a customer on one connection: the platform's id and the ERP
// version the platform last received.
type CustomerLink struct {
	Tenant        string         `json:"tenant"`
	ConnectionID  string         `json:"connection_id"`
	CustomerID    string         `json:"customer_id"`
	PlatformID    string         `json:"platform_id"`
	PushedVersion domain.Version `json:"pushed_version"`
	PushedAt      time.Time      `json:"pushed_at"`
}

// CustomerStore is the customer part of the port (embedded in Store).
type CustomerStore interface {
	// GetCustomers returns the customers that exist among ids, keyed by customer id.
	GetCustomers(ctx context.Context, tenant string, ids []string) (map[string]CustomerRecord, error)
	// ListCustomers pages through a tenant's customers like ListSKUs.
	ListCustomers(ctx context.Context, tenant, cursor string, limit int) (customers []CustomerRecord, next string, err error)
	// PutCustomers applies each write independently; errs[i] is nil, ErrConflict or another error.
	PutCustomers(ctx context.Context, writes []CustomerWrite) (errs []error, err error)
	// GetCustomerLink reads a customer's link on a connection (ErrNotFound when never pushed).
	GetCustomerLink(ctx context.Context, tenant, connectionID, customerID string) (CustomerLink, error)
	// PutCustomerLink stores l unless a link with a higher PushedVersion is stored (then
	// ErrStale). An equal version overwrites.
	PutCustomerLink(ctx context.Context, l CustomerLink) error
}

// ValidateCustomerWrite checks the shape every backend requires of a customer write.
func ValidateCustomerWrite(w CustomerWrite) error {
	switch {
	case w.Record.Tenant == "" || w.Record.CustomerID == "":
		return errors.New("customer write: tenant and customer id are required")
	case w.Record.Rev != w.ExpectedRev+1:
		return fmt.Errorf("customer %s: rev %d must be expected rev %d + 1", w.Record.CustomerID, w.Record.Rev, w.ExpectedRev)
	}
	return nil
}
