package storetest

import (
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// Option adapts the suite to a backend.
type Option func(*options)

type options struct {
	nonAtomicServer string
	expire          func(t *testing.T, s store.Store, now time.Time)
}

// NonAtomicConditionalWrites names a server whose conditional writes are not atomic
// under concurrency (moto's server: two conditional puts racing on one item can both
// succeed). The race cases, which prove the backend lets exactly one writer win, skip
// there with that reason; they run where the server guarantees atomicity (SQLite here,
// DynamoDB itself or DynamoDB Local).
func NonAtomicConditionalWrites(server string) Option {
	return func(o *options) { o.nonAtomicServer = server }
}

// Expire is how the backend deletes what has expired as of now: a purge on SQLite, the
// TTL sweeper's work on DynamoDB. The retention case runs only when it is given.
func Expire(f func(t *testing.T, s store.Store, now time.Time)) Option {
	return func(o *options) { o.expire = f }
}

// raceCases are the cases that race concurrent conditional writes on one item.
var raceCases = map[string]bool{
	"SKURace": true, "IdempotencyRace": true, "DeliveryRace": true, "OrderRace": true, "JobRace": true,
}

// skipReason says why a case does not run with these options ("" when it runs).
func (o options) skipReason(name string) string {
	if raceCases[name] && o.nonAtomicServer != "" {
		return o.nonAtomicServer + " does not apply conditional writes atomically under concurrency, " +
			"so this race can let two writers win; it runs on SQLite and on servers that guarantee atomicity"
	}
	return ""
}
