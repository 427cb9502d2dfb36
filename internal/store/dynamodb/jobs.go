package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/store"
)

// A job lives in the partition of its (tenant, connection, kind), sorted by start time:
// "the newest N runs of this connection" is one strongly consistent Query read backwards
// with Limit N, whatever the number of older runs. The id is the last sort-key component
// and left raw (nothing follows it), so equal start times sort by id as the port says.
// gsi1 lists a tenant's jobs of one kind the same way (the operator's page, eventually
// consistent). A pointer row per id finds the job for GetJob and keeps ids unique per
// tenant. Both rows carry the TTL attribute once the job has finished.
func jobsPK(tenant, conn, kind string) string {
	return "T#" + esc(tenant) + "#JOBS#C#" + esc(conn) + "#K#" + esc(kind)
}
func jobSK(j store.Job) string { return timeKey(j.StartedAt) + "#" + j.ID }
func jobsKindGSI(tenant, kind string) string {
	return "T#" + esc(tenant) + "#JOBS#K#" + esc(kind)
}
func jobRefPK(tenant, id string) string { return "T#" + esc(tenant) + "#JOB#" + esc(id) }

const skJobRef = "JOBREF"

// jobRef is the pointer row's data: where the job's row is.
type jobRef struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
}

// GetJob follows the id's pointer to the job row; both reads are strongly consistent.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (store.Job, error) {
	var ref jobRef
	if _, err := s.getItem(ctx, jobRefPK(tenant, id), skJobRef, &ref); err != nil {
		return store.Job{}, fmt.Errorf("get job %s/%s: %w", tenant, id, err)
	}
	var j store.Job
	if _, err := s.getItem(ctx, ref.PK, ref.SK, &j); err != nil {
		return store.Job{}, fmt.Errorf("get job %s/%s: %w", tenant, id, err)
	}
	return j, nil
}

// jobRows encodes j as its job row and its pointer row, the TTL attribute set on both
// once the job has finished.
func (s *Store) jobRows(j store.Job) (row, ref map[string]types.AttributeValue, err error) {
	it, err := newItem(jobsPK(j.Tenant, j.ConnectionID, j.Kind), jobSK(j), j.Rev, j)
	if err != nil {
		return nil, nil, err
	}
	it.GSI1PK, it.GSI1SK = jobsKindGSI(j.Tenant, j.Kind), jobSK(j)
	it.WTok = newToken()
	if row, err = it.marshal(); err != nil {
		return nil, nil, err
	}
	pit, err := newItem(jobRefPK(j.Tenant, j.ID), skJobRef, 0, jobRef{PK: it.PK, SK: it.SK})
	if err != nil {
		return nil, nil, err
	}
	if ref, err = pit.marshal(); err != nil {
		return nil, nil, err
	}
	if exp := store.JobExpiry(j, s.retention()); !exp.IsZero() {
		row[attrExpiresAt] = ttlValue(exp)
		ref[attrExpiresAt] = ttlValue(exp)
	}
	return row, ref, nil
}

// ttlValue is a TTL attribute: epoch seconds, as DynamoDB's TTL requires.
func ttlValue(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// PutJob writes the job row (conditional on rev) and its pointer row in one transaction,
// so the pointer's expiry always follows the job's. Creation requires both to be new: an
// id is unique within the tenant. An update whose kind, connection or start time differ
// from the stored job addresses another row, whose rev cannot match: ErrConflict.
func (s *Store) PutJob(ctx context.Context, j store.Job, expectedRev int64) error {
	if err := store.ValidateJobWrite(j, expectedRev); err != nil {
		return err
	}
	row, ref, err := s.jobRows(j)
	if err != nil {
		return fmt.Errorf("put job %s/%s: %w", j.Tenant, j.ID, err)
	}
	rowCond := expression.AttributeNotExists(expression.Name("pk"))
	refCond := expression.AttributeNotExists(expression.Name("pk"))
	if expectedRev != 0 {
		rowCond = expression.Name("rev").Equal(expression.Value(expectedRev))
		refCond = expression.Name("data").Equal(expression.Value(ref["data"].(*types.AttributeValueMemberS).Value))
	}
	rowPut, err := conditionalPut(s.table, row, rowCond)
	if err != nil {
		return fmt.Errorf("put job %s/%s: %w", j.Tenant, j.ID, err)
	}
	rowPut.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	refPut, err := conditionalPut(s.table, ref, refCond)
	if err != nil {
		return fmt.Errorf("put job %s/%s: %w", j.Tenant, j.ID, err)
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{Put: rowPut}, {Put: refPut}},
	})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		if len(tce.CancellationReasons) > 0 && ownRetry(tce.CancellationReasons[0].Item, row["wtok"].(*types.AttributeValueMemberS).Value) {
			return nil // a retried request whose first attempt committed
		}
		// A failed condition, or a concurrent transaction on the same job: either way
		// someone else wrote first.
		return fmt.Errorf("job %s/%s at rev %d: %w", j.Tenant, j.ID, expectedRev, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put job %s/%s: %w", j.Tenant, j.ID, err)
	}
	return nil
}

// ListJobs reads at most limit rows per kind: with a connection, backwards through the
// (connection, kind) partitions (strongly consistent); without, backwards through the
// tenant's gsi1 partition of each kind. Kinds are a closed set, so "any kind" merges
// one bounded listing per kind.
func (s *Store) ListJobs(ctx context.Context, tenant, kind, connectionID string, limit int) ([]store.Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list jobs of %s: limit %d must be positive", tenant, limit)
	}
	kinds := store.JobKinds
	if kind != "" {
		if !slices.Contains(store.JobKinds, kind) {
			return nil, nil // no job can have another kind
		}
		kinds = []string{kind}
	}
	var jobs []store.Job
	for _, k := range kinds {
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.table),
			KeyConditionExpression: aws.String("#pk = :pk"),
			ScanIndexForward:       aws.Bool(false),
			Limit:                  aws.Int32(int32(min(limit, 1000))),
		}
		if connectionID != "" {
			in.ExpressionAttributeNames = map[string]string{"#pk": "pk"}
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: jobsPK(tenant, connectionID, k)}}
			in.ConsistentRead = aws.Bool(true)
		} else {
			in.IndexName = aws.String(gsi1)
			in.ExpressionAttributeNames = map[string]string{"#pk": "gsi1pk"}
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: jobsKindGSI(tenant, k)}}
		}
		got, err := s.queryNewest(ctx, in, limit)
		if err != nil {
			return nil, fmt.Errorf("list jobs of %s: %w", tenant, err)
		}
		jobs = append(jobs, got...)
	}
	slices.SortFunc(jobs, store.NewestJobFirst)
	return jobs[:min(limit, len(jobs))], nil
}

// queryNewest pages through in until it has limit jobs or the partition ends; a page
// is capped at what is still missing, so it reads no row it does not return.
func (s *Store) queryNewest(ctx context.Context, in *dynamodb.QueryInput, limit int) ([]store.Job, error) {
	var jobs []store.Job
	for len(jobs) < limit {
		in.Limit = aws.Int32(int32(min(limit-len(jobs), 1000)))
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, av := range page.Items {
			var j store.Job
			if _, err := decode(av, &j); err != nil {
				return nil, err
			}
			jobs = append(jobs, j)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return jobs, nil
}
