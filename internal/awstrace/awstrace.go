// Package awstrace records the AWS API calls an SDK client makes: service, operation,
// the resource the call names (queue URL, table, secret) and a caller label carried by
// the context. Tests use it to hold IAM declarations to what the code really calls: every
// recorded call must be granted to the function that made it.
package awstrace

import (
	"context"
	"reflect"
	"sort"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Call is one AWS API call.
type Call struct {
	// Caller is the label WithCaller put on the call's context ("" when none).
	Caller    string
	Service   string // SDK service id: "SQS", "DynamoDB", "Secrets Manager"
	Operation string // "SendMessageBatch"
	// Resource is the call's QueueUrl, TableName or SecretId ("" when it names none, or
	// several tables at once as BatchGetItem and TransactWriteItems do).
	Resource string
}

type callerKey struct{}

// WithCaller labels every call made with ctx (or a context derived from it).
func WithCaller(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

// Recorder collects calls; the zero value is ready. Safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// resourceFields are the input fields that name the resource a call acts on.
var resourceFields = []string{"QueueUrl", "TableName", "SecretId"}

// Middleware is an aws.Config APIOptions entry: it records each call before it is sent.
func (r *Recorder) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awstrace",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c := Call{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx)}
			c.Caller, _ = ctx.Value(callerKey{}).(string)
			c.Resource = resourceOf(in.Parameters)
			r.mu.Lock()
			r.calls = append(r.calls, c)
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// resourceOf reads the first resource field the input has (inputs are pointers to structs).
func resourceOf(params any) string {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	for _, name := range resourceFields {
		f := v.Elem().FieldByName(name)
		if f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
			return f.Elem().String()
		}
	}
	return ""
}

// Calls returns the distinct calls recorded so far, sorted.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[Call]bool{}
	var out []Call
	for _, c := range r.calls {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Caller != b.Caller {
			return a.Caller < b.Caller
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Operation != b.Operation {
			return a.Operation < b.Operation
		}
		return a.Resource < b.Resource
	})
	return out
}

// Reset forgets every recorded call.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}
