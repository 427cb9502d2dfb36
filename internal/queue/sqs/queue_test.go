package sqs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/queue/queuetest"
)

// client connects to the SQS API named by PONTE_AWS_ENDPOINT (scripts/aws-emulator.sh).
func client(t *testing.T) (*sqs.Client, string) {
	t.Helper()
	endpoint := os.Getenv("PONTE_AWS_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("PONTE_REQUIRE_AWS") == "1" {
			t.Fatal("PONTE_REQUIRE_AWS=1 but PONTE_AWS_ENDPOINT is not set; run scripts/aws-emulator.sh start")
		}
		t.Skip("PONTE_AWS_ENDPOINT not set; run scripts/aws-emulator.sh start")
	}
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}), endpoint
}

var seq atomic.Int64

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

func newPair(t *testing.T, c *sqs.Client, fifo bool, vis time.Duration, maxReceives int) *Queue {
	t.Helper()
	ctx := context.Background()
	qURL, dURL, err := CreateQueuePair(ctx, c, uniqueName("ponte-test"), fifo, vis, maxReceives)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, u := range []string{qURL, dURL} {
			_, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
	})
	return New(c, qURL, dURL)
}

// TestContract runs the queue contract on every SQS server given (moto and ElasticMQ).
func TestContract(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.name, func(t *testing.T) {
			t.Logf("queue contract suite: SQS API at %s (%s)", srv.endpoint, srv.name)
			queuetest.Run(t, func(t *testing.T, cfg queuetest.Config) queue.Queue {
				return newPair(t, srv.client, cfg.FIFO, cfg.VisibilityTimeout, cfg.MaxReceives)
			}, queuetest.LenientReceipts()) // SQS accepts stale handles (moto too): see package doc
		})
	}
}

func TestCreateQueuePairIsIdempotent(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	name := uniqueName("ponte-pair")
	for i, vis := range []time.Duration{5 * time.Second, 5 * time.Second, 7 * time.Second} {
		qURL, dURL, err := CreateQueuePair(ctx, c, name, true, vis, 3)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if !strings.HasSuffix(qURL, name+".fifo") || !strings.HasSuffix(dURL, name+"-dlq.fifo") {
			t.Fatalf("urls %s %s", qURL, dURL)
		}
		res, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: &qURL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Attributes["VisibilityTimeout"]; got != fmt.Sprint(int(vis.Seconds())) {
			t.Errorf("call %d: VisibilityTimeout %s", i, got)
		}
		if p := res.Attributes["RedrivePolicy"]; !strings.Contains(p, name+"-dlq.fifo") || !strings.Contains(p, "3") {
			t.Errorf("call %d: RedrivePolicy %s", i, p)
		}
		if i == 2 {
			for _, u := range []string{qURL, dURL} {
				_, _ = c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
			}
		}
	}
}

func TestQueueURLFromARN(t *testing.T) {
	tests := []struct {
		arn, endpoint, want string
		wantErr             bool
	}{
		{arn: "arn:aws:sqs:us-east-1:123456789012:push-tray.fifo", want: "https://sqs.us-east-1.amazonaws.com/123456789012/push-tray.fifo"},
		{arn: "arn:aws-cn:sqs:cn-north-1:123456789012:changes", want: "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/changes"},
		{arn: "arn:aws:sqs:us-east-1:000000000000:changes", endpoint: "http://127.0.0.1:4566/", want: "http://127.0.0.1:4566/000000000000/changes"},
		{arn: "arn:aws:sns:us-east-1:123456789012:topic", wantErr: true},
		{arn: "arn:aws:sqs:us-east-1::changes", wantErr: true},
		{arn: "changes", wantErr: true},
	}
	for _, tt := range tests {
		var opts []URLOption
		if tt.endpoint != "" {
			opts = append(opts, WithEndpoint(tt.endpoint))
		}
		got, err := QueueURLFromARN(tt.arn, opts...)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("QueueURLFromARN(%q) = %q, %v; want %q, err %t", tt.arn, got, err, tt.want, tt.wantErr)
		}
	}
}
