package dynamodb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// listShards spreads a tenant's SKU (and customer) STATE rows over this many gsi1
// partitions: every stock write rewrites the row's index entry, and one hot partition
// of a throttled GSI would throttle the base-table writes too.
const listShards = 8

// listing is a tenant's STATE rows listed through sharded gsi1 partitions
// <prefix>#<tenant>#<shard> sorted by the raw id. The prefixes are distinct from every
// other gsi1 key (which start with "T#", "C#", "DLV#" or are TENANTS).
type listing struct {
	prefix string // also tags cursors, so one listing's cursor cannot drive another
	pk     func(tenant, id string) string
}

var (
	skuListing      = listing{prefix: "SKUS", pk: skuPK}
	customerListing = listing{prefix: "CUSTS", pk: custPK}
)

func listShard(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id)) // hash writes never fail
	return int(h.Sum32() % listShards)
}

func (l listing) gsi(tenant string, shard int) string {
	return fmt.Sprintf("%s#%s#%d", l.prefix, esc(tenant), shard)
}

// index sets the gsi1 attributes that list the STATE row of id.
func (l listing) index(it *item, tenant, id string) {
	it.GSI1PK, it.GSI1SK = l.gsi(tenant, listShard(id)), id
}

// ListSKUs pages through a tenant's SKUs, shard by shard. Like every GSI read it is
// eventually consistent, and a SKU written before the listing entry existed is listed
// once PutSKUs rewrites it.
func (s *Store) ListSKUs(ctx context.Context, tenant, cursor string, limit int) ([]domain.SKUState, string, error) {
	out, next, err := listSharded[domain.SKUState](ctx, s, skuListing, tenant, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list skus of %s: %w", tenant, err)
	}
	return out, next, nil
}

// ListCustomers pages through a tenant's customers like ListSKUs.
func (s *Store) ListCustomers(ctx context.Context, tenant, cursor string, limit int) ([]store.CustomerRecord, string, error) {
	out, next, err := listSharded[store.CustomerRecord](ctx, s, customerListing, tenant, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list customers of %s: %w", tenant, err)
	}
	return out, next, nil
}

// shardCursor is where a listing resumes: in Shard, after the id After ("" is the
// shard's start). With the tenant and the listing it rebuilds the ExclusiveStartKey.
type shardCursor struct {
	Listing string `json:"l"`
	Shard   int    `json:"s"`
	After   string `json:"a,omitempty"`
}

func (c shardCursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and an int always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeShardCursor(s, listing string) (shardCursor, error) {
	var c shardCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && (c.Listing != listing || c.Shard < 0 || c.Shard >= listShards) {
		err = fmt.Errorf("cursor does not belong to this listing")
	}
	if err != nil {
		return shardCursor{}, fmt.Errorf("%w: %w", store.ErrBadCursor, err)
	}
	return c, nil
}

// listSharded queries the shards in turn from the cursor's position, asking each for
// one row more than the page still needs: that row says whether a next page exists, so
// the last page reliably says next == "".
func listSharded[T any](ctx context.Context, s *Store, l listing, tenant, cursor string, limit int) ([]T, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("limit %d must be positive", limit)
	}
	pos := shardCursor{Listing: l.prefix}
	if cursor != "" {
		c, err := decodeShardCursor(cursor, l.prefix)
		if err != nil {
			return nil, "", err
		}
		pos = c
	}
	var out []T
	for ; pos.Shard < listShards; pos.Shard, pos.After = pos.Shard+1, "" {
		gsiPK := l.gsi(tenant, pos.Shard)
		e, err := expression.NewBuilder().WithKeyCondition(expression.Key("gsi1pk").Equal(expression.Value(gsiPK))).Build()
		if err != nil {
			return nil, "", fmt.Errorf("build query: %w", err)
		}
		in := &dynamodb.QueryInput{
			TableName: aws.String(s.table), IndexName: aws.String(gsi1),
			KeyConditionExpression:    e.KeyCondition(),
			ExpressionAttributeNames:  e.Names(),
			ExpressionAttributeValues: e.Values(),
		}
		if pos.After != "" {
			in.ExclusiveStartKey = keyOf(l.pk(tenant, pos.After), skState)
			in.ExclusiveStartKey["gsi1pk"] = &types.AttributeValueMemberS{Value: gsiPK}
			in.ExclusiveStartKey["gsi1sk"] = &types.AttributeValueMemberS{Value: pos.After}
		}
		for {
			in.Limit = aws.Int32(int32(min(limit-len(out)+1, 1000)))
			page, err := s.client.Query(ctx, in)
			if err != nil {
				return nil, "", err
			}
			for _, av := range page.Items {
				if len(out) == limit {
					return out, pos.encode(), nil // a row beyond the page: there is more
				}
				var v T
				it, err := decode(av, &v)
				if err != nil {
					return nil, "", err
				}
				out = append(out, v)
				pos.After = it.GSI1SK
			}
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
	}
	return out, "", nil
}
