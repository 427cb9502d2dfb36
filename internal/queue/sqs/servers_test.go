package sqs

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ponte-hub/ponte/internal/awsemu"
)

// sqsServer is one SQS API-compatible server the suites run against.
type sqsServer struct {
	name     string // as awsemu identified it
	endpoint string
	client   *sqs.Client
}

// servers returns the SQS servers the tests were given: moto at PONTE_AWS_ENDPOINT
// (scripts/aws-emulator.sh) and ElasticMQ, with SQS's strict limits, at
// PONTE_ELASTICMQ_ENDPOINT (scripts/elasticmq.sh). An unset one is skipped, unless
// PONTE_REQUIRE_AWS=1 (moto) or PONTE_REQUIRE_ELASTICMQ=1 asks for it; none given skips.
func servers(t *testing.T) []sqsServer {
	t.Helper()
	var out []sqsServer
	for _, s := range []struct{ env, require, start string }{
		{"PONTE_AWS_ENDPOINT", "PONTE_REQUIRE_AWS", "scripts/aws-emulator.sh start"},
		{"PONTE_ELASTICMQ_ENDPOINT", "PONTE_REQUIRE_ELASTICMQ", "scripts/elasticmq.sh start"},
	} {
		endpoint := os.Getenv(s.env)
		if endpoint == "" {
			if os.Getenv(s.require) == "1" {
				t.Fatalf("%s=1 but %s is not set; run %s", s.require, s.env, s.start)
			}
			continue
		}
		id, err := awsemu.Identify(context.Background(), endpoint)
		if err != nil {
			t.Fatalf("%s: %v", s.env, err)
		}
		out = append(out, sqsServer{name: id.Name, endpoint: endpoint, client: sqs.New(sqs.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			BaseEndpoint: aws.String(endpoint),
		})})
	}
	if len(out) == 0 {
		t.Skip("no SQS server: set PONTE_AWS_ENDPOINT (scripts/aws-emulator.sh) and/or PONTE_ELASTICMQ_ENDPOINT (scripts/elasticmq.sh)")
	}
	return out
}
