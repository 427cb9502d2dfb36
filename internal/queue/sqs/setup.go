package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// CreateQueuePair creates (or converges) the dead-letter queue "<name>-dlq" and the queue
// "<name>" whose redrive policy sends a message there after maxReceiveCount receives
// (no policy when maxReceiveCount <= 0). FIFO adds ".fifo" to both names. Calling it
// again is safe: existing queues get the attributes set again.
func CreateQueuePair(ctx context.Context, client *sqs.Client, name string, fifo bool, visibility time.Duration, maxReceiveCount int) (queueURL, dlqURL string, err error) {
	base := strings.TrimSuffix(name, ".fifo")
	qName, dName := base, base+"-dlq"
	if fifo {
		qName, dName = qName+".fifo", dName+".fifo"
	}
	// 14 days, the maximum: on standard queues a message's age in the DLQ counts from its first send.
	dlqAttrs := map[string]string{string(types.QueueAttributeNameMessageRetentionPeriod): "1209600"}
	qAttrs := map[string]string{string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(ceilSeconds(visibility, 43200)))}
	if fifo {
		dlqAttrs[string(types.QueueAttributeNameFifoQueue)] = "true"
		qAttrs[string(types.QueueAttributeNameFifoQueue)] = "true"
	}
	if dlqURL, err = ensureQueue(ctx, client, dName, dlqAttrs); err != nil {
		return "", "", err
	}
	if maxReceiveCount > 0 {
		res, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: &dlqURL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
		})
		if err != nil {
			return "", "", fmt.Errorf("read ARN of %s: %w", dName, err)
		}
		policy, err := json.Marshal(map[string]string{
			"deadLetterTargetArn": res.Attributes[string(types.QueueAttributeNameQueueArn)],
			"maxReceiveCount":     strconv.Itoa(maxReceiveCount),
		})
		if err != nil {
			return "", "", fmt.Errorf("redrive policy for %s: %w", qName, err)
		}
		qAttrs[string(types.QueueAttributeNameRedrivePolicy)] = string(policy)
	}
	if queueURL, err = ensureQueue(ctx, client, qName, qAttrs); err != nil {
		return "", "", err
	}
	return queueURL, dlqURL, nil
}

// ensureQueue creates the queue, or, when it exists with other attributes, sets them
// (FifoQueue cannot change and is left out).
func ensureQueue(ctx context.Context, client *sqs.Client, name string, attrs map[string]string) (string, error) {
	res, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err == nil {
		return aws.ToString(res.QueueUrl), nil
	}
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	got, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name})
	if err != nil {
		return "", fmt.Errorf("find queue %s: %w", name, err)
	}
	mutable := map[string]string{}
	for k, v := range attrs {
		if k != string(types.QueueAttributeNameFifoQueue) {
			mutable[k] = v
		}
	}
	if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: got.QueueUrl, Attributes: mutable}); err != nil {
		return "", fmt.Errorf("update queue %s: %w", name, err)
	}
	return aws.ToString(got.QueueUrl), nil
}

// URLOption adjusts QueueURLFromARN.
type URLOption func(*urlOptions)

type urlOptions struct{ endpoint string }

// WithEndpoint builds the URL on a custom endpoint (an emulator): endpoint/account/name.
func WithEndpoint(endpoint string) URLOption {
	return func(o *urlOptions) { o.endpoint = strings.TrimRight(endpoint, "/") }
}

// QueueURLFromARN turns arn:aws:sqs:region:account:name into
// https://sqs.region.amazonaws.com/account/name, as Lambda's SQS events carry ARNs only.
func QueueURLFromARN(arn string, opts ...URLOption) (string, error) {
	var o urlOptions
	for _, opt := range opts {
		opt(&o)
	}
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
		return "", fmt.Errorf("not an SQS queue ARN: %q", arn)
	}
	partition, region, account, name := parts[1], parts[3], parts[4], parts[5]
	if partition == "" || region == "" || account == "" || name == "" {
		return "", fmt.Errorf("SQS queue ARN %q has an empty field", arn)
	}
	if o.endpoint != "" {
		return o.endpoint + "/" + account + "/" + name, nil
	}
	domain := "amazonaws.com"
	if partition == "aws-cn" {
		domain = "amazonaws.com.cn"
	}
	return "https://sqs." + region + "." + domain + "/" + account + "/" + name, nil
}
