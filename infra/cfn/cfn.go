// Package cfn renders the parts of Ponte's template that CloudFormation takes as raw
// properties (alarms, the dashboard, the API stage's throttling and access log) once,
// for both deploy paths: infra/stack writes them as CfnResources or overrides and
// infra/sam into template.yaml, so the CDK/SAM parity test compares one rendering.
package cfn

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ponte-hub/ponte/internal/topology"
	"github.com/ponte-hub/ponte/internal/worker"
)

// Ref, GetAtt and Sub are CloudFormation's intrinsics as JSON values.
func Ref(id string) map[string]any          { return map[string]any{"Ref": id} }
func GetAtt(id, attr string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }
func Sub(s string) map[string]any           { return map[string]any{"Fn::Sub": s} }

// nameValue is a {stage} name as Fn::Sub, or the plain string when nothing is substituted.
func nameValue(name string) any {
	if s := topology.Sub(name); s != name {
		return Sub(s)
	}
	return name
}

// dimensionValue is a metric dimension's value in the template.
func dimensionValue(t topology.Topology, r topology.Ref) (any, error) {
	switch r.Kind {
	case topology.RefQueueName:
		return GetAtt(r.ID, "QueueName"), nil
	case topology.RefFunctionName:
		return Ref(r.ID), nil
	case topology.RefTableName:
		return Ref(t.Table.LogicalID), nil
	case topology.RefAPIID:
		return Ref(t.API.LogicalID), nil
	case topology.RefLiteral:
		return r.Value, nil
	}
	return nil, fmt.Errorf("no dimension value for reference kind %s", r.Kind)
}

func dimensions(t topology.Topology, ds []topology.Dimension) ([]any, error) {
	var out []any
	for _, d := range ds {
		v, err := dimensionValue(t, d.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"Name": d.Name, "Value": v})
	}
	return out, nil
}

// Alarm is the Properties of a's AWS::CloudWatch::Alarm.
func Alarm(t topology.Topology, a topology.Alarm) (map[string]any, error) {
	p := map[string]any{
		"AlarmActions":       []any{Ref(topology.AlarmTopic.LogicalID)},
		"AlarmDescription":   a.Description,
		"AlarmName":          nameValue(a.Name),
		"ComparisonOperator": "GreaterThanOrEqualToThreshold",
		"EvaluationPeriods":  a.EvaluationPeriods,
		"Threshold":          a.Threshold,
		// No data means no messages, no invocations, no requests: not a failure.
		"TreatMissingData": "notBreaching",
	}
	period := int(a.Period.Seconds())
	if a.Expression == "" {
		if len(a.Metrics) != 1 {
			return nil, fmt.Errorf("alarm %s: %d metrics and no expression", a.LogicalID, len(a.Metrics))
		}
		m := a.Metrics[0]
		dims, err := dimensions(t, m.Dimensions)
		if err != nil {
			return nil, fmt.Errorf("alarm %s: %w", a.LogicalID, err)
		}
		p["Namespace"], p["MetricName"], p["Statistic"], p["Period"], p["Dimensions"] = m.Namespace, m.Name, m.Statistic, period, dims
		return p, nil
	}
	var metrics []any
	for i, m := range a.Metrics {
		dims, err := dimensions(t, m.Dimensions)
		if err != nil {
			return nil, fmt.Errorf("alarm %s: %w", a.LogicalID, err)
		}
		metrics = append(metrics, map[string]any{
			"Id": "m" + strconv.Itoa(i),
			"MetricStat": map[string]any{
				"Metric": map[string]any{"Namespace": m.Namespace, "MetricName": m.Name, "Dimensions": dims},
				"Period": period, "Stat": m.Statistic,
			},
			"ReturnData": false,
		})
	}
	metrics = append(metrics, map[string]any{"Id": "total", "Expression": a.Expression, "Label": a.Name, "ReturnData": true})
	p["Metrics"] = metrics
	return p, nil
}

// StageAccessLog and StageThrottle are the HTTP API stage's AccessLogSettings and
// DefaultRouteSettings.
func StageAccessLog(t topology.Topology) map[string]any {
	return map[string]any{"DestinationArn": GetAtt(t.API.AccessLog.LogicalID, "Arn"), "Format": t.API.AccessLogFormat}
}

func StageThrottle(t topology.Topology) map[string]any {
	return map[string]any{"ThrottlingBurstLimit": t.API.ThrottleBurst, "ThrottlingRateLimit": t.API.ThrottleRate}
}

// Dashboard is the Properties of the stack's AWS::CloudWatch::Dashboard: the queues
// (waiting, oldest age, retries, dead letters), the functions (errors, throttles,
// duration), the table (throttles, system errors) and the API (requests, 4xx/5xx, latency).
func Dashboard(t topology.Topology) (map[string]any, error) {
	type widget = map[string]any
	var widgets []widget
	y := 0
	add := func(title string, metrics [][]any, stat string) {
		widgets = append(widgets, widget{
			"type": "metric", "x": (len(widgets) % 2) * 12, "y": y, "width": 12, "height": 6,
			"properties": map[string]any{"title": title, "region": "${AWS::Region}", "stat": stat, "period": 300,
				"view": "timeSeries", "metrics": metrics},
		})
		if len(widgets)%2 == 0 {
			y += 6
		}
	}
	var waiting, age, retries, dead, errs, throttles, duration [][]any
	for _, q := range t.Queues {
		name := topology.Sub(q.Name)
		if q.DLQ == "" {
			dead = append(dead, []any{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name})
			continue
		}
		waiting = append(waiting, []any{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name})
		age = append(age, []any{"AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", name})
		retries = append(retries, []any{topology.MetricsNamespace, worker.RetryMetric, worker.RetryMetricQueueLabel, name})
	}
	for _, f := range t.Functions {
		name := topology.Sub(f.Name)
		errs = append(errs, []any{"AWS/Lambda", "Errors", "FunctionName", name})
		throttles = append(throttles, []any{"AWS/Lambda", "Throttles", "FunctionName", name})
		duration = append(duration, []any{"AWS/Lambda", "Duration", "FunctionName", name})
	}
	table := topology.Sub(t.Table.Name)
	api := "${" + t.API.LogicalID + "}"
	add("Queues: messages waiting", waiting, "Maximum")
	add("Queues: age of oldest message (s)", age, "Maximum")
	add("Queues: retries", retries, "Sum")
	add("Dead-letter queues: messages", dead, "Maximum")
	add("Functions: errors", errs, "Sum")
	add("Functions: throttles", throttles, "Sum")
	add("Functions: duration p99 (ms)", duration, "p99")
	add("Table: throttled reads and writes", [][]any{
		{"AWS/DynamoDB", "ReadThrottleEvents", "TableName", table},
		{"AWS/DynamoDB", "WriteThrottleEvents", "TableName", table},
	}, "Sum")
	add("API: requests, 4xx and 5xx", [][]any{
		{"AWS/ApiGateway", "Count", "ApiId", api},
		{"AWS/ApiGateway", "4xx", "ApiId", api},
		{"AWS/ApiGateway", "5xx", "ApiId", api},
	}, "Sum")
	add("API: latency p99 (ms)", [][]any{{"AWS/ApiGateway", "Latency", "ApiId", api}}, "p99")
	body, err := json.Marshal(map[string]any{"widgets": widgets})
	if err != nil {
		return nil, fmt.Errorf("dashboard body: %w", err)
	}
	return map[string]any{"DashboardName": nameValue(t.Dashboard.Name), "DashboardBody": Sub(string(body))}, nil
}
