package sqs

import (
	"slices"
	"sort"
)

// IAM: what each method of Queue needs from AWS. The deploy topology builds every
// function's role from these tables and the queue methods the function calls, and
// iam_test.go checks each row against the SQS operations the method really makes.

// QueueSide says which queue of a pair an action is on.
type QueueSide string

const (
	// OnQueue is the work queue (the URL New was given first).
	OnQueue QueueSide = "queue"
	// OnDLQ is its dead-letter queue.
	OnDLQ QueueSide = "dlq"
)

// Grant is one IAM action on one side of the pair.
type Grant struct {
	Action string
	On     QueueSide
}

// MethodGrants lists, per method of Queue (the queue.Queue port), every IAM action the
// method may need. Name needs none: it reads the URL.
var MethodGrants = map[string][]Grant{
	"Send":    {{"sqs:SendMessage", OnQueue}},
	"Receive": {{"sqs:ReceiveMessage", OnQueue}},
	"Delete":  {{"sqs:DeleteMessage", OnQueue}},
	"Retry":   {{"sqs:ChangeMessageVisibility", OnQueue}},
	// A copy to the DLQ with the reason, then a delete from the source.
	"DeadLetter": {{"sqs:SendMessage", OnDLQ}, {"sqs:DeleteMessage", OnQueue}},
	// Peeks: receive from the DLQ, then release what was seen.
	"ListDead": {{"sqs:ReceiveMessage", OnDLQ}, {"sqs:ChangeMessageVisibility", OnDLQ}},
	// Receive from the DLQ, send back to the source, delete from the DLQ, release the rest.
	"Redrive": {{"sqs:ReceiveMessage", OnDLQ}, {"sqs:SendMessage", OnQueue}, {"sqs:DeleteMessage", OnDLQ},
		{"sqs:ChangeMessageVisibility", OnDLQ}},
	// Receive from the DLQ, delete what was filed, release a batch the filing refused.
	"TakeDead": {{"sqs:ReceiveMessage", OnDLQ}, {"sqs:DeleteMessage", OnDLQ}, {"sqs:ChangeMessageVisibility", OnDLQ}},
	"Stats":    {{"sqs:GetQueueAttributes", OnQueue}, {"sqs:GetQueueAttributes", OnDLQ}},
	"Name":     nil,
}

// ConsumerGrants is what a Lambda event source mapping needs on the queue it polls
// (AWS's documented execution-role permissions for SQS triggers); Lambda itself deletes
// the messages a batch reports as done.
var ConsumerGrants = []Grant{
	{"sqs:ReceiveMessage", OnQueue}, {"sqs:DeleteMessage", OnQueue}, {"sqs:GetQueueAttributes", OnQueue},
}

// operationActions maps each SQS API operation the adapter makes to the IAM action that
// authorises it (batch calls are authorised as their single form).
var operationActions = map[string]string{
	"SendMessage":                  "sqs:SendMessage",
	"SendMessageBatch":             "sqs:SendMessage",
	"ReceiveMessage":               "sqs:ReceiveMessage",
	"DeleteMessage":                "sqs:DeleteMessage",
	"DeleteMessageBatch":           "sqs:DeleteMessage",
	"ChangeMessageVisibility":      "sqs:ChangeMessageVisibility",
	"ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"GetQueueAttributes":           "sqs:GetQueueAttributes",
}

// OperationAction is the IAM action authorising an SQS API operation ("SendMessageBatch"
// -> "sqs:SendMessage"); false for operations the adapter does not make at run time.
func OperationAction(operation string) (string, bool) {
	a, ok := operationActions[operation]
	return a, ok
}

// GrantsFor is the union of the grants of methods, sorted and without repeats; an
// unknown method name is returned in unknown so callers can refuse it.
func GrantsFor(methods ...string) (grants []Grant, unknown []string) {
	for _, m := range methods {
		g, ok := MethodGrants[m]
		if !ok {
			unknown = append(unknown, m)
			continue
		}
		grants = append(grants, g...)
	}
	sort.Slice(grants, func(i, j int) bool {
		if grants[i].On != grants[j].On {
			return grants[i].On < grants[j].On
		}
		return grants[i].Action < grants[j].Action
	})
	return slices.Compact(grants), unknown
}
