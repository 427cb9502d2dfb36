// Package dynamodb is the AWS Store: one DynamoDB table, single-table design.
//
// Keys (every free-form component is escaped by esc, so no id can forge another's key):
//
//	TENANT#<id>            TENANT          tenant; gsi1 TENANTS / <id> lists every tenant
//	APIKEY#<hash>          APIKEY          pointer to the tenant owning an API key
//	OPKEY#<hash>           OPKEY           pointer to the tenant owning an operator key
//	CONN#<id>              CONN            connection; gsi1 T#<tenant>#CONNS / <id> lists a tenant's
//	T#<tenant>#SKU#<sku>   STATE           SKU aggregate (rev guards optimistic writes); gsi1
//	                                       SKUS#<tenant>#<shard> / <sku> lists a tenant's (listing.go)
//	                       MAP#<conn>      mapping; gsi1 C#<conn>#P#<product>#V#<variant> / pk
//	                       DESIRED#<conn>  desired state (rev only moves forward)
//	                       PUSHED#<conn>   pushed state
//	T#<tenant>#CUST#<id>   STATE           ERP customer (rev guards optimistic writes); gsi1
//	                                       CUSTS#<tenant>#<shard> / <id> lists a tenant's
//	                       LINK#<conn>     customer link: platform id, pushed version (only moves forward)
//	IDEM#<key>             IDEM            idempotency record; expires_at is the TTL attribute
//	C#<conn>#DLV#<id>      DLV             raw delivery; gsi1 DLV#PENDING / <received>#<conn>#<id>
//	                                       until marked processed (sparse: the sweeper's list)
//	T#<tenant>#ORDERS      ORD#<id>        order record (rev guards optimistic writes; the id
//	                                       is last, so kept raw to sort as given); gsi1
//	                                       T#<tenant>#ORDERS#ERP#<state> / <offered>#<id> while
//	                                       it has an ERP state
//	T#<tenant>#NEEDS       ORD#<order>#<sku>  purchase need (listed by supplier, sorted in Go)
//	T#<tenant>#JOBS#C#<conn>#K#<kind>  <started>#<id>  background job (rev guards optimistic
//	                                       writes); gsi1 T#<tenant>#JOBS#K#<kind> / <started>#<id>;
//	                                       listings read backwards with a limit (jobs.go)
//	T#<tenant>#JOB#<id>    JOBREF          where job <id> is (GetJob), unique id per tenant
//	CURSOR#<name>          CURSOR          named polling cursor
//
// History expires through the table's TTL attribute expires_at (epoch seconds), set
// retention after a record became history: finished jobs and their pointers, processed
// deliveries (retention.go); idempotency records carry their own expiry.
//
// One Query on a SKU's pk returns its whole item collection. Aggregates are stored as a
// JSON string attribute "data": decimals encode as strings, never floats, and nested
// maps keep their shape. Reads of base-table items are strongly consistent; the gsi1
// lookups (ListTenants, ListConnections, MappingByPlatformID, ListUnprocessedDeliveries,
// ListOrders by ERP state, ListSKUs, ListCustomers) are eventually consistent, as every
// GSI is.
package dynamodb

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/store"
)

// Store implements store.Store on one DynamoDB table. Secrets are not kept here: on AWS
// they live in Secrets Manager.
type Store struct {
	client *dynamodb.Client
	table  string
	// workers bounds concurrent requests of one PutSKUs/GetSKUs call: enough to hide
	// latency, few enough not to burst a fresh on-demand table into throttling.
	workers int
	// keep is how long history stays before its TTL (0: store.DefaultRetention).
	keep time.Duration
}

// New returns a Store on an existing table (see CreateTable).
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{client: client, table: table, workers: 16}
	for _, o := range opts {
		o(s)
	}
	return s
}

// item is the common shape of every row.
type item struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK string `dynamodbav:"gsi1sk,omitempty"`
	Rev    int64  `dynamodbav:"rev"`
	Data   string `dynamodbav:"data"`
	// Tenant is set on APIKEY and OPKEY pointers; the key hashes on tenants (to retire
	// a rotated key's pointer).
	Tenant          string `dynamodbav:"tenant,omitempty"`
	APIKeyHash      string `dynamodbav:"api_key_hash,omitempty"`
	OperatorKeyHash string `dynamodbav:"operator_key_hash,omitempty"`
	// WTok is a random token per conditional write; see ownRetry.
	WTok string `dynamodbav:"wtok,omitempty"`
}

// esc escapes the key separator so "a#SKU#b" as an id cannot collide with a real key.
var escaper = strings.NewReplacer("%", "%25", "#", "%23")

func esc(s string) string { return escaper.Replace(s) }

func tenantPK(id string) string       { return "TENANT#" + esc(id) }
func apiKeyPK(hash string) string     { return "APIKEY#" + esc(hash) }
func opKeyPK(hash string) string      { return "OPKEY#" + esc(hash) }
func connPK(id string) string         { return "CONN#" + esc(id) }
func tenantConnsGSI(t string) string  { return "T#" + esc(t) + "#CONNS" }
func skuPK(tenant, sku string) string { return "T#" + esc(tenant) + "#SKU#" + esc(sku) }
func custPK(tenant, id string) string { return "T#" + esc(tenant) + "#CUST#" + esc(id) }
func linkSK(conn string) string       { return "LINK#" + esc(conn) }
func mapSK(conn string) string        { return "MAP#" + esc(conn) }
func desiredSK(conn string) string    { return "DESIRED#" + esc(conn) }
func pushedSK(conn string) string     { return "PUSHED#" + esc(conn) }
func idemPK(key string) string        { return "IDEM#" + esc(key) }
func platformGSI(conn, p, v string) string {
	return "C#" + esc(conn) + "#P#" + esc(p) + "#V#" + esc(v)
}

// tenantsGSI is the gsi1 partition listing every tenant. No escaped id can produce it:
// every other gsi1 key starts with "T#", "C#", "SKUS#", "CUSTS#" or is DLV#PENDING.
const tenantsGSI = "TENANTS"

const (
	skTenant = "TENANT"
	skAPIKey = "APIKEY"
	skOpKey  = "OPKEY"
	skConn   = "CONN"
	skState  = "STATE"
	skIdem   = "IDEM"
	gsi1     = "gsi1"
)

func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: sk},
	}
}

// newItem encodes v as the JSON data of a row.
func newItem(pk, sk string, rev int64, v any) (item, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return item{}, fmt.Errorf("encode: %w", err)
	}
	return item{PK: pk, SK: sk, Rev: rev, Data: string(data)}, nil
}

func (it item) marshal() (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal item: %w", err)
	}
	return av, nil
}

// decode unmarshals a row and its JSON data into dst.
func decode(av map[string]types.AttributeValue, dst any) (item, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return item{}, fmt.Errorf("unmarshal item: %w", err)
	}
	if err := json.Unmarshal([]byte(it.Data), dst); err != nil {
		return item{}, fmt.Errorf("decode %s/%s: %w", it.PK, it.SK, err)
	}
	return it, nil
}

// getItem reads one row strongly consistently into dst; absent is store.ErrNotFound.
func (s *Store) getItem(ctx context.Context, pk, sk string, dst any) (item, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return item{}, err
	}
	if out.Item == nil {
		return item{}, store.ErrNotFound
	}
	return decode(out.Item, dst)
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// ownRetry reports whether a failed condition only failed because of our own earlier
// attempt: when a response is lost (connection dropped) the SDK retries the request, and
// the retry of a conditional write that did land sees its own result. The row returned
// with the failure (ReturnValuesOnConditionCheckFailure ALL_OLD) then carries our token.
func ownRetry(old map[string]types.AttributeValue, tok string) bool {
	v, ok := old["wtok"].(*types.AttributeValueMemberS)
	return ok && tok != "" && v.Value == tok
}

func newToken() string { return rand.Text() }

// forEach runs fn(0..n-1) on at most workers goroutines and waits for all of them.
func forEach(n, workers int, fn func(i int)) {
	if workers > n {
		workers = n
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
