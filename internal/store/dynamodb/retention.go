package dynamodb

import (
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// Option configures a Store.
type Option func(*Store)

// WithRetention keeps history (finished jobs, processed deliveries) for d before
// DynamoDB's TTL deletes it; d <= 0 keeps store.DefaultRetention.
func WithRetention(d time.Duration) Option {
	return func(s *Store) { s.keep = d }
}

func (s *Store) retention() time.Duration {
	if s.keep > 0 {
		return s.keep
	}
	return store.DefaultRetention
}

// Table is the name of the store's table.
func (s *Store) Table() string { return s.table }
