package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
	"github.com/ponte-hub/ponte/internal/platforms"
	"github.com/ponte-hub/ponte/internal/queue"
	queuesqs "github.com/ponte-hub/ponte/internal/queue/sqs"
	"github.com/ponte-hub/ponte/internal/secrets/keys"
	"github.com/ponte-hub/ponte/internal/secrets/secretsmanager"
	storedynamo "github.com/ponte-hub/ponte/internal/store/dynamodb"
)

// AWSConfig locates the AWS resources. Every field has an environment variable (see
// AWSConfigFromEnv); the deploy stacks set them on each function.
type AWSConfig struct {
	// Endpoint overrides every service endpoint (an emulator such as moto); empty for real AWS.
	Endpoint string
	Region   string
	Table    string
	// ChangesQueueURL and ChangesDLQURL are the fan-out queue pair.
	ChangesQueueURL string
	ChangesDLQURL   string
	// OrdersQueueURL/OrdersDLQURL (standard) and EventsQueueURL/EventsDLQURL (FIFO).
	OrdersQueueURL string
	OrdersDLQURL   string
	EventsQueueURL string
	EventsDLQURL   string
	// PushQueueURLs and PushDLQURLs are keyed by platform (FIFO queues).
	PushQueueURLs map[string]string
	PushDLQURLs   map[string]string
	SecretsPrefix string
	// Create makes missing resources (for emulators and first runs); the stacks do it on AWS.
	Create bool
	// NamePrefix names created resources.
	NamePrefix string
	// APIOptions are extra SDK middleware for every client (tests record calls with it).
	APIOptions []func(*middleware.Stack) error
}

// AWSConfigFromEnv reads PONTE_AWS_ENDPOINT, AWS_REGION, PONTE_TABLE, PONTE_CHANGES_QUEUE_URL,
// PONTE_CHANGES_DLQ_URL, PONTE_ORDERS_QUEUE_URL, PONTE_ORDERS_DLQ_URL, PONTE_EVENTS_QUEUE_URL,
// PONTE_EVENTS_DLQ_URL, PONTE_PUSH_QUEUE_URL_<PLATFORM>, PONTE_PUSH_DLQ_URL_<PLATFORM>,
// PONTE_SECRETS_PREFIX, PONTE_AWS_CREATE=1 and PONTE_NAME_PREFIX.
func AWSConfigFromEnv() AWSConfig {
	c := AWSConfig{
		Endpoint:        os.Getenv("PONTE_AWS_ENDPOINT"),
		Region:          envOr("AWS_REGION", "us-east-1"),
		Table:           envOr("PONTE_TABLE", "ponte"),
		ChangesQueueURL: os.Getenv("PONTE_CHANGES_QUEUE_URL"),
		ChangesDLQURL:   os.Getenv("PONTE_CHANGES_DLQ_URL"),
		OrdersQueueURL:  os.Getenv("PONTE_ORDERS_QUEUE_URL"),
		OrdersDLQURL:    os.Getenv("PONTE_ORDERS_DLQ_URL"),
		EventsQueueURL:  os.Getenv("PONTE_EVENTS_QUEUE_URL"),
		EventsDLQURL:    os.Getenv("PONTE_EVENTS_DLQ_URL"),
		PushQueueURLs:   map[string]string{},
		PushDLQURLs:     map[string]string{},
		SecretsPrefix:   envOr("PONTE_SECRETS_PREFIX", "ponte/"),
		Create:          os.Getenv("PONTE_AWS_CREATE") == "1",
		NamePrefix:      envOr("PONTE_NAME_PREFIX", "ponte"),
	}
	for _, p := range platforms.Names() {
		up := strings.ToUpper(p)
		c.PushQueueURLs[p] = os.Getenv("PONTE_PUSH_QUEUE_URL_" + up)
		c.PushDLQURLs[p] = os.Getenv("PONTE_PUSH_DLQ_URL_" + up)
	}
	return c
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// AWSVisibility is the push and fan-out queues' visibility timeout; the stacks use the same.
const (
	AWSVisibility      = 120 * time.Second
	AWSMaxReceiveCount = 20
)

// OpenAWS wires the hub to DynamoDB, SQS and Secrets Manager. Endpoints: c.Endpoint
// (PONTE_AWS_ENDPOINT) sends every service to one emulator; without it the SDK's own
// resolution applies, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> included.
func OpenAWS(ctx context.Context, c AWSConfig, log *slog.Logger) (*Hub, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(c.Region)}
	if c.Endpoint != "" {
		// Emulators accept any static credentials; real AWS uses the default chain.
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
			opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
		}
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	cfg.APIOptions = append(cfg.APIOptions, c.APIOptions...)
	// The one-switch override is set per client, after the SDK resolved the client's
	// endpoint, so it wins over AWS_ENDPOINT_URL_*; without it nothing is touched, and
	// the SDK keeps what it read from those variables (setting BaseEndpoint per client,
	// even to nil, would erase them).
	var ddbOpts []func(*awsdynamodb.Options)
	var sqsOpts []func(*awssqs.Options)
	var smOpts []func(*awssm.Options)
	if endpoint := c.Endpoint; endpoint != "" {
		ddbOpts = append(ddbOpts, func(o *awsdynamodb.Options) { o.BaseEndpoint = &endpoint })
		sqsOpts = append(sqsOpts, func(o *awssqs.Options) { o.BaseEndpoint = &endpoint })
		smOpts = append(smOpts, func(o *awssm.Options) { o.BaseEndpoint = &endpoint })
	}
	ddb := awsdynamodb.NewFromConfig(cfg, ddbOpts...)
	sqsClient := awssqs.NewFromConfig(cfg, sqsOpts...)
	smClient := awssm.NewFromConfig(cfg, smOpts...)

	if c.Create {
		if err := createAWS(ctx, &c, ddb, sqsClient); err != nil {
			return nil, err
		}
	}
	if c.ChangesQueueURL == "" {
		return nil, fmt.Errorf("PONTE_CHANGES_QUEUE_URL: required (or PONTE_AWS_CREATE=1)")
	}
	retention, err := RetentionFromEnv()
	if err != nil {
		return nil, err
	}
	h := &Hub{Backend: "aws", Log: log}
	table := storedynamo.New(ddb, c.Table, storedynamo.WithRetention(retention))
	h.Store = table
	h.Secrets = secretsmanager.New(smClient, c.SecretsPrefix)
	h.Changes = queuesqs.New(sqsClient, c.ChangesQueueURL, c.ChangesDLQURL)
	if c.OrdersQueueURL == "" || c.EventsQueueURL == "" {
		return nil, fmt.Errorf("PONTE_ORDERS_QUEUE_URL and PONTE_EVENTS_QUEUE_URL: required (or PONTE_AWS_CREATE=1)")
	}
	h.OrderQueue = queuesqs.New(sqsClient, c.OrdersQueueURL, c.OrdersDLQURL)
	h.EventQueue = queuesqs.New(sqsClient, c.EventsQueueURL, c.EventsDLQURL)
	h.PushQueues = map[string]queue.Queue{}
	for _, p := range platforms.Names() {
		if c.PushQueueURLs[p] == "" {
			return nil, fmt.Errorf("PONTE_PUSH_QUEUE_URL_%s: required (or PONTE_AWS_CREATE=1)", strings.ToUpper(p))
		}
		h.PushQueues[p] = queuesqs.New(sqsClient, c.PushQueueURLs[p], c.PushDLQURLs[p])
	}
	// Every function (push, reconcile, orders, the API) in every execution environment
	// calls the same stores: their limits live in the table, one bucket per store.
	h.RateLimits = &ratelimit.Shared{Store: table}
	h.Connectors = platforms.Connectors(h.Secrets, h.RateLimits, log)
	// Keys are hashed under PONTE_KEY_PEPPER(_FILE) when the deployment gives one (every
	// function that checks or writes keys needs the same); without it, unkeyed SHA-256.
	if h.Keys, err = keys.LoadHasher("", log); err != nil {
		return nil, err
	}
	h.wire()
	// On AWS a tenant's endpoint URL must not reach the metadata service or the VPC; an
	// emulator endpoint means a local test run, whose ERP listens on loopback.
	h.Dispatcher.PublicOnly = c.Endpoint == ""
	return h, nil
}

func createAWS(ctx context.Context, c *AWSConfig, ddb *awsdynamodb.Client, sqsClient *awssqs.Client) error {
	if err := storedynamo.CreateTable(ctx, ddb, c.Table); err != nil {
		return fmt.Errorf("create table %s: %w", c.Table, err)
	}
	var err error
	c.ChangesQueueURL, c.ChangesDLQURL, err = queuesqs.CreateQueuePair(ctx, sqsClient, c.NamePrefix+"-changes", false, AWSVisibility, AWSMaxReceiveCount)
	if err != nil {
		return fmt.Errorf("create changes queue: %w", err)
	}
	c.OrdersQueueURL, c.OrdersDLQURL, err = queuesqs.CreateQueuePair(ctx, sqsClient, c.NamePrefix+"-orders", false, AWSVisibility, AWSMaxReceiveCount)
	if err != nil {
		return fmt.Errorf("create orders queue: %w", err)
	}
	c.EventsQueueURL, c.EventsDLQURL, err = queuesqs.CreateQueuePair(ctx, sqsClient, c.NamePrefix+"-events", true, AWSVisibility, AWSMaxReceiveCount)
	if err != nil {
		return fmt.Errorf("create events queue: %w", err)
	}
	for _, p := range platforms.Names() {
		q, dlq, err := queuesqs.CreateQueuePair(ctx, sqsClient, c.NamePrefix+"-push-"+p, true, AWSVisibility, AWSMaxReceiveCount)
		if err != nil {
			return fmt.Errorf("create push queue %s: %w", p, err)
		}
		c.PushQueueURLs[p], c.PushDLQURLs[p] = q, dlq
	}
	return nil
}
