package dynamodb

import (
	"slices"
	"sort"
)

// IAM: what the store needs from AWS. The deploy topology grants DataActions on the
// table and its indexes to every function (each one opens the whole store), and
// iam_test.go checks the tables against the DynamoDB calls in this package's source.

// operationActions maps each DynamoDB operation the store makes while serving to the IAM
// actions that authorise it. TransactWriteItems is authorised per item as the item's own
// action, hence every write action plus ConditionCheckItem.
var operationActions = map[string][]string{
	"BatchGetItem":       {"dynamodb:BatchGetItem"},
	"BatchWriteItem":     {"dynamodb:BatchWriteItem"},
	"DeleteItem":         {"dynamodb:DeleteItem"},
	"GetItem":            {"dynamodb:GetItem"},
	"PutItem":            {"dynamodb:PutItem"},
	"Query":              {"dynamodb:Query"},
	"UpdateItem":         {"dynamodb:UpdateItem"},
	"TransactWriteItems": {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
}

// SetupOperations are the calls CreateTable makes; deployed functions never make them
// (the stacks create the table), so no role grants them.
var SetupOperations = []string{"CreateTable", "DescribeTable", "DescribeTimeToLive", "UpdateTimeToLive"}

// OperationActions is the IAM actions authorising a serving-time operation; false for
// an operation the store does not make while serving.
func OperationActions(operation string) ([]string, bool) {
	a, ok := operationActions[operation]
	return slices.Clone(a), ok
}

// DataActions is every IAM action the store needs while serving, sorted.
func DataActions() []string {
	var out []string
	for _, a := range operationActions {
		out = append(out, a...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Operations is every DynamoDB operation the store makes while serving, sorted (the
// table's error alarm sums SystemErrors over them: the metric is per operation).
func Operations() []string {
	var out []string
	for op := range operationActions {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}
