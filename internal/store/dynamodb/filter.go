package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// withEquals adds a filter requiring each attribute to equal its value, given as name,
// value pairs; an empty value matches everything and is left out. It reports whether any
// filter was added (a filtered query reads rows it does not return).
func withEquals(b expression.Builder, pairs ...string) (expression.Builder, bool) {
	var cond expression.ConditionBuilder
	n := 0
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		c := expression.Name(pairs[i]).Equal(expression.Value(pairs[i+1]))
		if n == 0 {
			cond = c
		} else {
			cond = cond.And(c)
		}
		n++
	}
	if n == 0 {
		return b, false
	}
	return b.WithFilter(cond), true
}

// queryRows runs a strongly consistent base-table query through every page, keeping the
// rows whose attributes equal the given name, value pairs (see withEquals).
func (s *Store) queryRows(ctx context.Context, key expression.KeyConditionBuilder, equals ...string) ([]map[string]types.AttributeValue, error) {
	b, _ := withEquals(expression.NewBuilder().WithKeyCondition(key), equals...)
	e, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build query: %w", err)
	}
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    e.KeyCondition(),
		FilterExpression:          e.Filter(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	var rows []map[string]types.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		rows = append(rows, page.Items...)
	}
	return rows, nil
}
