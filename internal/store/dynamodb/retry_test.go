package dynamodb_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
	ddbstore "github.com/ponte-hub/ponte/internal/store/dynamodb"
)

// lossyClient forwards every request to the real server but, when armed, throws away
// the response to the next call of one operation and reports a connection reset, as a
// dropped connection does. The SDK then retries a write that has already landed.
type lossyClient struct {
	mu     sync.Mutex
	target string // X-Amz-Target suffix to drop, e.g. "PutItem"; "" when disarmed
	drops  int
}

func (c *lossyClient) arm(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.target, c.drops = op, 0
}

func (c *lossyClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	drop := c.target != "" && req.Header.Get("X-Amz-Target") == "DynamoDB_20120810."+c.target
	if drop {
		c.target = ""
		c.drops++
	}
	c.mu.Unlock()
	if drop {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return nil, errors.New("read tcp 127.0.0.1: connection reset by peer")
	}
	return resp, nil
}

// TestRetriedConditionalWriteIsNotAConflict: a conditional write whose first attempt
// committed but whose answer was lost must not report its own retry as a conflict.
func TestRetriedConditionalWriteIsNotAConflict(t *testing.T) {
	base, endpoint := client(t)
	t.Logf("DynamoDB API at %s (%s), responses dropped on the client side", endpoint, serverName(t, endpoint))
	lossy := &lossyClient{}
	c := dynamodb.New(base.Options(), func(o *dynamodb.Options) {
		o.HTTPClient = lossy
		o.BaseEndpoint = aws.String(endpoint)
	})
	s := ddbstore.New(c, freshTable(t, base))
	ctx := context.Background()
	at := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

	for _, tc := range []struct {
		name string
		op   string
		run  func() error
	}{
		{"create sku", "PutItem", func() error {
			errs, err := s.PutSKUs(ctx, []store.SKUWrite{{State: domain.SKUState{Tenant: "t", SKU: "A", Rev: 1, UpdatedAt: at}}})
			return errors.Join(err, errs[0])
		}},
		{"update sku", "PutItem", func() error {
			errs, err := s.PutSKUs(ctx, []store.SKUWrite{{State: domain.SKUState{Tenant: "t", SKU: "A", Rev: 2, UpdatedAt: at}, ExpectedRev: 1}})
			return errors.Join(err, errs[0])
		}},
		{"desired", "PutItem", func() error {
			return s.PutDesired(ctx, domain.DesiredState{Tenant: "t", ConnectionID: "c", SKU: "A", Rev: 2})
		}},
		{"rotate tenant key", "TransactWriteItems", func() error {
			if err := s.PutTenant(ctx, domain.Tenant{ID: "t", APIKeyHash: "h1"}); err != nil {
				return err
			}
			lossy.arm("TransactWriteItems") // drop the rotation's answer, not the creation's
			return s.PutTenant(ctx, domain.Tenant{ID: "t", APIKeyHash: "h2"})
		}},
		{"create delivery", "PutItem", func() error {
			created, err := s.PutDelivery(ctx, store.Delivery{ConnectionID: "c", ID: "e1", Tenant: "t", ReceivedAt: at})
			if err == nil && !created {
				return errors.New("own delivery reported as a duplicate")
			}
			return err
		}},
		{"create order", "PutItem", func() error {
			return s.PutOrder(ctx, store.OrderWrite{Record: domain.OrderRecord{Tenant: "t", ID: "o1", Rev: 1}})
		}},
		{"update order", "PutItem", func() error {
			return s.PutOrder(ctx, store.OrderWrite{Record: domain.OrderRecord{Tenant: "t", ID: "o1", Rev: 2}, ExpectedRev: 1})
		}},
		{"claim", "PutItem", func() error {
			_, claimed, err := s.ClaimIdempotency(ctx, "k", "h", time.Hour)
			if err == nil && !claimed {
				return errors.New("own claim reported as someone else's")
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lossy.arm(tc.op)
			if err := tc.run(); err != nil {
				t.Fatalf("retried write failed: %v", err)
			}
			if lossy.drops != 1 {
				t.Fatalf("no response was dropped (%d); the test proves nothing", lossy.drops)
			}
		})
	}
}
