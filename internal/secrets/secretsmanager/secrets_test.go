package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ponte-hub/ponte/internal/awsemu"
	"github.com/ponte-hub/ponte/internal/store"
)

func client(t *testing.T) *sm.Client {
	t.Helper()
	endpoint := os.Getenv("PONTE_AWS_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("PONTE_REQUIRE_AWS") == "1" {
			t.Fatal("PONTE_AWS_ENDPOINT is required (PONTE_REQUIRE_AWS=1)")
		}
		t.Skip("PONTE_AWS_ENDPOINT not set: the Secrets Manager adapter needs an API emulator (make test starts one)")
	}
	server, err := awsemu.Identify(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("secrets contract suite: Secrets Manager API at %s (%s)", endpoint, server)
	return sm.New(sm.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

func TestSecretsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := New(client(t), fmt.Sprintf("ponte-test-%d/", time.Now().UnixNano()))
	if _, err := s.GetSecret(ctx, "conn-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing secret: got %v, want ErrNotFound", err)
	}
	steps := []map[string]string{
		{"consumer_key": "ck", "consumer_secret": "cs", "code": "c"},
		{"consumer_key": "ck", "consumer_secret": "cs", "code": "c", "access_token": "tok", "access_expires_at": "2026-11-23T05:00:00Z"},
	}
	for i, want := range steps {
		if err := s.PutSecret(ctx, "conn-1", want); err != nil {
			t.Fatalf("step %d: put: %v", i, err)
		}
		got, err := s.GetSecret(ctx, "conn-1")
		if err != nil {
			t.Fatalf("step %d: get: %v", i, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("step %d: got %v, want %v", i, got, want)
		}
	}
	if got, err := s.GetSecret(ctx, "conn-2"); !errors.Is(err, store.ErrNotFound) || got != nil {
		t.Fatalf("another connection's secret leaked: %v %v", got, err)
	}
}
