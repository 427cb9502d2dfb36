package dynamodb

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/ponte-hub/ponte/internal/store"
)

// readCounter counts the items DynamoDB reads for the store: a Query's ScannedCount
// (what it bills, filtered or not) and each GetItem that found its item.
type readCounter struct{ items atomic.Int64 }

func (rc *readCounter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countReads",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			switch o := out.Result.(type) {
			case *dynamodb.QueryOutput:
				rc.items.Add(int64(o.ScannedCount))
			case *dynamodb.ScanOutput:
				rc.items.Add(int64(o.ScannedCount))
			case *dynamodb.GetItemOutput:
				if o.Item != nil {
					rc.items.Add(1)
				}
			}
			return out, md, err
		}), middleware.After)
}

// jobsSeed is how many jobs of each (connection, kind) a tenant holds.
type jobsSeed struct{ c1Reconcile, c1FirstSync, c2Reconcile int }

// seedJobs writes the jobs' rows, exactly as PutJob encodes them, with BatchWriteItem
// (PutJob's transaction per job would take minutes for 20,000 on an emulator). One
// reconcile run per minute, the newest still running.
func seedJobs(t *testing.T, s *Store, sd jobsSeed) {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var reqs []types.WriteRequest
	add := func(kind, conn string, n int) {
		for i := range n {
			at := start.Add(time.Duration(i) * time.Minute)
			j := store.Job{Tenant: "t1", ID: fmt.Sprintf("%s-%s-%06d", kind, conn, i), Kind: kind, ConnectionID: conn,
				Status: store.JobDone, StartedAt: at, UpdatedAt: at.Add(30 * time.Second), FinishedAt: aws.Time(at.Add(30 * time.Second)),
				Report: []byte(`{"checked":500,"drift":3}`), Done: 500, Total: 500, Rev: 3}
			if i == n-1 {
				j.Status, j.FinishedAt = store.JobRunning, nil
			}
			row, ref, err := s.jobRows(j)
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: row}},
				types.WriteRequest{PutRequest: &types.PutRequest{Item: ref}})
		}
	}
	add(store.JobReconcile, "c1", sd.c1Reconcile)
	add(store.JobFirstSync, "c1", sd.c1FirstSync)
	add(store.JobReconcile, "c2", sd.c2Reconcile)
	const writers = 8
	chunk := (len(reqs)/writers/batchWriteMax + 1) * batchWriteMax
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for lo := 0; lo < len(reqs); lo += chunk {
		part := reqs[lo:min(lo+chunk, len(reqs))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.batchWrite(context.Background(), part); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestJobListingCostDoesNotGrowWithJobs: what a reconcile tick and the operator's pages
// read (ListJobs with each filter, GetJob) is the same item count with 20 jobs stored as
// with 20,000, and never more than limit per kind. Reading the whole jobs partition, as
// listings did before, reads every one of the 20,000.
func TestJobListingCostDoesNotGrowWithJobs(t *testing.T) {
	endpoint := os.Getenv("PONTE_AWS_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("PONTE_REQUIRE_AWS") == "1" {
			t.Fatal("PONTE_REQUIRE_AWS=1 but PONTE_AWS_ENDPOINT is unset")
		}
		t.Skip("PONTE_AWS_ENDPOINT unset; run scripts/aws-emulator.sh start and set it")
	}
	if testing.Short() {
		t.Skip("seeds 20,000 jobs")
	}
	counter := &readCounter{}
	client := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		APIOptions:  []func(*middleware.Stack) error{counter.middleware},
	})
	type listing struct {
		kind, conn string
		limit      int
	}
	listings := []listing{
		{store.JobReconcile, "c1", 1},  // reconcile: is a run in progress?
		{store.JobReconcile, "c1", 5},  // reconcile: a rival created at the same moment?
		{store.JobReconcile, "c1", 10}, // schedule: when was the last real run?
		{store.JobFirstSync, "c1", 5},  // first sync
		{"", "c1", 5},                  // the connection's page: both kinds
		{store.JobReconcile, "", 5},    // the operator's reports of one kind
		{"", "", 5},                    // the operator's reports
	}
	cost := func(t *testing.T, sd jobsSeed) map[string]int64 {
		s := New(client, freshTableInternal(t, client))
		seedJobs(t, s, sd)
		out := map[string]int64{}
		for _, l := range listings {
			before := counter.items.Load()
			jobs, err := s.ListJobs(context.Background(), "t1", l.kind, l.conn, l.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != l.limit {
				t.Fatalf("%+v: %d jobs", l, len(jobs))
			}
			out[fmt.Sprintf("list %q %q %d", l.kind, l.conn, l.limit)] = counter.items.Load() - before
		}
		before := counter.items.Load()
		if _, err := s.GetJob(context.Background(), "t1", "reconcile-c1-000003"); err != nil {
			t.Fatal(err)
		}
		out["get"] = counter.items.Load() - before
		// The counter sees a whole-partition read for what it is: the way listings
		// worked before (every job of the tenant, filtered, sorted in Go).
		before = counter.items.Load()
		p := dynamodb.NewQueryPaginator(client, &dynamodb.QueryInput{
			TableName: aws.String(s.table), KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: jobsPK("t1", "c1", store.JobReconcile)}},
		})
		for p.HasMorePages() {
			if _, err := p.NextPage(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if whole := counter.items.Load() - before; whole != int64(sd.c1Reconcile) {
			t.Fatalf("a whole-partition read counted %d items, want %d", whole, sd.c1Reconcile)
		}
		return out
	}
	small := cost(t, jobsSeed{c1Reconcile: 10, c1FirstSync: 5, c2Reconcile: 5})
	large := cost(t, jobsSeed{c1Reconcile: 18000, c1FirstSync: 1000, c2Reconcile: 1000})
	for name, n := range small {
		t.Logf("%-32s items read: %d with 20 jobs, %d with 20,000", name, n, large[name])
		if large[name] != n {
			t.Errorf("%s reads %d items with 20,000 jobs, %d with 20", name, large[name], n)
		}
	}
	for _, l := range listings {
		kinds := 1
		if l.kind == "" {
			kinds = len(store.JobKinds)
		}
		if n := small[fmt.Sprintf("list %q %q %d", l.kind, l.conn, l.limit)]; n > int64(kinds*l.limit) {
			t.Errorf("%+v read %d items, more than limit per kind", l, n)
		}
	}
}

// freshTableInternal creates a uniquely named table, deleted after the test.
func freshTableInternal(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("ponte-cost-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := CreateTable(ctx, c, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}
