package topology

import (
	"strconv"
	"strings"
	"time"

	storedynamo "github.com/ponte-hub/ponte/internal/store/dynamodb"
	"github.com/ponte-hub/ponte/internal/worker"
)

// Alarm thresholds. infra/README.md explains each alarm and what to do.
const (
	// QueueAgeThreshold: the push path runs in well under a second and a retried message
	// waits at most worker.DefaultPolicy's 5-minute backoff, so a message waiting half
	// an hour means the queue is not being worked.
	QueueAgeThreshold = 30 * time.Minute
	// RetryThreshold retries of one queue in each of RetryPeriods consecutive 5-minute
	// periods: a platform's 429s come and go, a quarter of an hour of them does not.
	RetryThreshold = 10
	RetryPeriods   = 3
)

// accessLogFormat is one JSON line per request: who, what, the answer and its latency,
// and the Lambda's own status and error when it failed.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status",` +
	`"responseLength":"$context.responseLength","latencyMs":"$context.responseLatency",` +
	`"integrationStatus":"$context.integrationStatus","integrationLatencyMs":"$context.integration.latency",` +
	`"integrationError":"$context.integrationErrorMessage","error":"$context.error.message"}`

func alarm(id, name string, kind AlarmKind, target, description string, threshold float64, periods int, metrics ...Metric) Alarm {
	return Alarm{
		Named: Named{LogicalID: id, Name: name}, Kind: kind, Target: target, Metrics: metrics,
		Threshold: threshold, Period: 5 * time.Minute, EvaluationPeriods: periods, Description: description,
	}
}

func alarms(t Topology) []Alarm {
	var out []Alarm
	queueDim := func(id string) []Dimension {
		return []Dimension{{Name: "QueueName", Value: Ref{Kind: RefQueueName, ID: id}}}
	}
	for _, q := range t.Queues {
		base := strings.TrimSuffix(q.Name, ".fifo")
		if q.DLQ == "" { // only dead-letter queues name no DLQ
			out = append(out, alarm(q.LogicalID+"DepthAlarm", base+"-depth", AlarmDLQDepth, q.LogicalID,
				"Messages in "+q.LogicalID+": they failed "+strconv.Itoa(MaxReceiveCount)+" times or were dead-lettered; "+
					"see GET /v1/admin/failures, fix the cause, then POST /v1/admin/failures/retry.", 1, 1,
				Metric{Namespace: "AWS/SQS", Name: "ApproximateNumberOfMessagesVisible", Statistic: "Maximum", Dimensions: queueDim(q.LogicalID)}))
			continue
		}
		out = append(out, alarm(q.LogicalID+"AgeAlarm", base+"-age", AlarmQueueAge, q.LogicalID,
			"The oldest message in "+q.LogicalID+" waited over "+QueueAgeThreshold.String()+": its consumer is failing, throttled or stopped; "+
				"see its function's errors and throttles and GET /v1/admin/queues.", QueueAgeThreshold.Seconds(), 1,
			Metric{Namespace: "AWS/SQS", Name: "ApproximateAgeOfOldestMessage", Statistic: "Maximum", Dimensions: queueDim(q.LogicalID)}))
		out = append(out, alarm(q.LogicalID+"RetriesAlarm", base+"-retries", AlarmQueueRetries, q.LogicalID,
			"Messages of "+q.LogicalID+" keep coming back for retries (a platform refusing, rate limiting or down): "+
				"search the consumer's log for 'message retry scheduled' to see the errors.", RetryThreshold, RetryPeriods,
			Metric{Namespace: MetricsNamespace, Name: worker.RetryMetric, Statistic: "Sum",
				Dimensions: []Dimension{{Name: worker.RetryMetricQueueLabel, Value: Ref{Kind: RefQueueName, ID: q.LogicalID}}}}))
	}
	for _, f := range t.Functions {
		dim := []Dimension{{Name: "FunctionName", Value: Ref{Kind: RefFunctionName, ID: f.LogicalID}}}
		out = append(out, alarm(f.LogicalID+"ErrorsAlarm", f.Name+"-errors", AlarmFunctionErrors, f.LogicalID,
			"Invocations of "+f.Name+" failed (crash, timeout or start-up error); see its log group.", 1, 1,
			Metric{Namespace: "AWS/Lambda", Name: "Errors", Statistic: "Sum", Dimensions: dim}))
		out = append(out, alarm(f.LogicalID+"ThrottlesAlarm", f.Name+"-throttles", AlarmFunctionThrottles, f.LogicalID,
			"Lambda refused invocations of "+f.Name+" for want of concurrency; see the account's concurrency and this function's reserved concurrency.", 1, 1,
			Metric{Namespace: "AWS/Lambda", Name: "Throttles", Statistic: "Sum", Dimensions: dim}))
	}
	tableDim := Dimension{Name: "TableName", Value: Ref{Kind: RefTableName}}
	var sysErrors []Metric
	var terms []string
	for i, op := range storedynamo.Operations() {
		sysErrors = append(sysErrors, Metric{Namespace: "AWS/DynamoDB", Name: "SystemErrors", Statistic: "Sum",
			Dimensions: []Dimension{tableDim, {Name: "Operation", Value: Ref{Kind: RefLiteral, Value: op}}}})
		terms = append(terms, "m"+strconv.Itoa(i))
	}
	errs := alarm("TableErrorsAlarm", "ponte-{stage}-table-errors", AlarmTableErrors, TableID,
		"DynamoDB answered the table's requests with system errors (HTTP 500); the SDK retried, but persistent errors fail requests: see the AWS Health Dashboard.", 1, 1,
		sysErrors...)
	errs.Expression = strings.Join(terms, "+")
	throttles := alarm("TableThrottlesAlarm", "ponte-{stage}-table-throttles", AlarmTableThrottles, TableID,
		"DynamoDB throttled reads or writes of the table (a hot partition or the on-demand table's limits); see the dashboard's table widget.", 1, 1,
		Metric{Namespace: "AWS/DynamoDB", Name: "ReadThrottleEvents", Statistic: "Sum", Dimensions: []Dimension{tableDim}},
		Metric{Namespace: "AWS/DynamoDB", Name: "WriteThrottleEvents", Statistic: "Sum", Dimensions: []Dimension{tableDim}})
	throttles.Expression = "m0+m1"
	out = append(out, errs, throttles)
	out = append(out, alarm("Api5xxAlarm", "ponte-{stage}-api-5xx", AlarmAPI5xx, HTTPAPIID,
		"The HTTP API answered 5xx: see the API access log (integrationError) and the serving function's log.", 1, 1,
		Metric{Namespace: "AWS/ApiGateway", Name: "5xx", Statistic: "Sum", Dimensions: []Dimension{{Name: "ApiId", Value: Ref{Kind: RefAPIID}}}}))
	return out
}

// MetricsNamespace is where the functions' EMF metrics go (PONTE_METRICS_NAMESPACE's default).
const MetricsNamespace = "Ponte"
