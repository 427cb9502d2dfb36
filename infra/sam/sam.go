// Package sam renders Ponte's SAM template (template.yaml at the repo root) from the one
// declaration in internal/topology. Every resource that SAM does not transform (queues,
// table, roles, log groups, schedules, alarms) is written exactly as the CDK app
// synthesizes it, and the functions carry the same properties, so infra's parity test can
// compare the two templates resource by resource.
//
// Functions are AWS::Serverless::Function built by SAM's Go builder (BuildMethod go1.x)
// from functions/<name>; each has an explicit role, so SAM adds no managed policy.
package sam

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ponte-hub/ponte/infra/cfn"
	"github.com/ponte-hub/ponte/internal/topology"
)

// Header is the comment at the top of the generated file.
const Header = "# Generated from internal/topology by `go run ./cmd/samgen` (in infra/). Do not edit:\n" +
	"# change the declaration and regenerate; infra's tests fail while this file is stale.\n"

// kv and omap keep key order, so the file reads top-down like a hand-written template.
type kv struct {
	k string
	v any
}

type omap []kv

func (m omap) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range m {
		var k, v yaml.Node
		k.SetString(e.k)
		if err := v.Encode(e.v); err != nil {
			return nil, fmt.Errorf("%s: %w", e.k, err)
		}
		n.Content = append(n.Content, &k, &v)
	}
	return n, nil
}

func o(pairs ...any) omap {
	m := make(omap, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		m = append(m, kv{pairs[i].(string), pairs[i+1]})
	}
	return m
}

func ref(id string) omap          { return o("Ref", id) }
func getAtt(id, attr string) omap { return o("Fn::GetAtt", []string{id, attr}) }
func fnSub(s string) omap         { return o("Fn::Sub", s) }
func statement(actions []string, resources []any) omap {
	return o("Action", one(actions), "Effect", "Allow", "Resource", oneAny(resources))
}

// sub renders a {stage} name as Fn::Sub, or a plain string when nothing is substituted
// (as the CDK app does).
func sub(name string) any {
	if s := topology.Sub(name); s != name {
		return fnSub(s)
	}
	return name
}

// one and oneAny write a single action or resource as a scalar, as the CDK does.
func one(xs []string) any {
	if len(xs) == 1 {
		return xs[0]
	}
	return xs
}

func oneAny(xs []any) any {
	if len(xs) == 1 {
		return xs[0]
	}
	return xs
}

// Render returns template.yaml for the topology.
func Render(t topology.Topology) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(Header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	tpl, err := template(t)
	if err != nil {
		return nil, err
	}
	if err := enc.Encode(tpl); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func template(t topology.Topology) (omap, error) {
	var params omap
	for _, p := range t.Parameters {
		props := o("Type", p.Type, "Default", p.Default)
		if p.Pattern != "" {
			props = append(props, kv{"AllowedPattern", p.Pattern})
		}
		if len(p.Allowed) > 0 {
			props = append(props, kv{"AllowedValues", p.Allowed})
		}
		props = append(props, kv{"Description", p.Description})
		params = append(params, kv{p.Name, props})
	}

	res := omap{}
	add := func(id string, r omap) { res = append(res, kv{id, r}) }

	add(t.Table.LogicalID, table(t.Table))
	for _, q := range t.Queues {
		add(q.LogicalID, queue(q))
	}
	for _, f := range t.Functions {
		add(f.LogGroup.LogicalID, o("Type", "AWS::Logs::LogGroup",
			"Properties", o("LogGroupName", sub(f.LogGroup.Name), "RetentionInDays", ref(topology.LogRetentionParam)),
			"UpdateReplacePolicy", "Delete", "DeletionPolicy", "Delete"))
		add(f.LogicalID+"Role", role(t, f))
		add(f.LogicalID, function(t, f))
	}
	add(t.API.AccessLog.LogicalID, o("Type", "AWS::Logs::LogGroup",
		"Properties", o("LogGroupName", sub(t.API.AccessLog.Name), "RetentionInDays", ref(topology.LogRetentionParam)),
		"UpdateReplacePolicy", "Delete", "DeletionPolicy", "Delete"))
	add(t.API.LogicalID, o("Type", "AWS::Serverless::HttpApi", "Properties", o(
		"Name", sub(t.API.Name),
		"AccessLogSettings", cfn.StageAccessLog(t),
		"DefaultRouteSettings", cfn.StageThrottle(t))))
	add(t.ScheduleGroup.LogicalID, o("Type", "AWS::Scheduler::ScheduleGroup", "Properties", o("Name", sub(t.ScheduleGroup.Name))))
	for _, s := range t.Schedules {
		add(s.RoleLogicalID, o("Type", "AWS::IAM::Role", "Properties", o(
			"AssumeRolePolicyDocument", o("Statement", []any{o(
				"Action", "sts:AssumeRole",
				"Condition", o("StringEquals", o("aws:SourceAccount", ref("AWS::AccountId"))),
				"Effect", "Allow",
				"Principal", o("Service", "scheduler.amazonaws.com"))},
				"Version", "2012-10-17"),
			"Policies", []any{o("PolicyDocument", o(
				"Statement", []any{statement([]string{"lambda:InvokeFunction"}, []any{getAtt(s.Function, "Arn")})},
				"Version", "2012-10-17"), "PolicyName", topology.PolicyName)})))
		add(s.LogicalID, o("Type", "AWS::Scheduler::Schedule", "Properties", o(
			"FlexibleTimeWindow", o("Mode", "OFF"),
			"GroupName", ref(t.ScheduleGroup.LogicalID),
			"Name", sub(s.Name),
			"ScheduleExpression", s.Expression,
			"Target", o(
				"Arn", getAtt(s.Function, "Arn"),
				"Input", s.Input,
				"RetryPolicy", o("MaximumEventAgeInSeconds", int(s.MaxEventAge.Seconds()), "MaximumRetryAttempts", s.RetryAttempts),
				"RoleArn", getAtt(s.RoleLogicalID, "Arn")))))
	}
	add(topology.AlarmTopic.LogicalID, o("Type", "AWS::SNS::Topic", "Properties", o("TopicName", sub(topology.AlarmTopic.Name))))
	add(topology.AlarmSubscriptionID, o("Type", "AWS::SNS::Subscription",
		"Properties", o("Endpoint", ref(topology.AlarmEmailParam), "Protocol", "email", "TopicArn", ref(topology.AlarmTopic.LogicalID)),
		"Condition", topology.HasAlarmEmailCondition))
	for _, a := range t.Alarms {
		props, err := cfn.Alarm(t, a)
		if err != nil {
			return nil, err
		}
		add(a.LogicalID, o("Type", "AWS::CloudWatch::Alarm", "Properties", props))
	}
	dash, err := cfn.Dashboard(t)
	if err != nil {
		return nil, err
	}
	add(t.Dashboard.LogicalID, o("Type", "AWS::CloudWatch::Dashboard", "Properties", dash))

	return o(
		"AWSTemplateFormatVersion", "2010-09-09",
		"Transform", "AWS::Serverless-2016-10-31",
		"Description", "Ponte ERP <-> e-commerce sync hub (SAM; same topology as the CDK app in infra/)",
		"Parameters", params,
		"Conditions", o(topology.HasAlarmEmailCondition, o("Fn::Not", []any{o("Fn::Equals", []any{ref(topology.AlarmEmailParam), ""})})),
		"Resources", res,
		"Outputs", outputs(t),
	), nil
}

func table(t topology.Table) omap {
	str := func(n string) omap { return o("AttributeName", n, "AttributeType", "S") }
	keys := func(h, r string) []any {
		return []any{o("AttributeName", h, "KeyType", "HASH"), o("AttributeName", r, "KeyType", "RANGE")}
	}
	attrs := []any{str(t.PartitionKey), str(t.SortKey)}
	var gsis []any
	for _, g := range t.GSIs {
		attrs = append(attrs, str(g.PartitionKey), str(g.SortKey))
		gsis = append(gsis, o("IndexName", g.Name, "KeySchema", keys(g.PartitionKey, g.SortKey), "Projection", o("ProjectionType", "ALL")))
	}
	return o("Type", "AWS::DynamoDB::Table", "Properties", o(
		"AttributeDefinitions", attrs,
		"BillingMode", "PAY_PER_REQUEST",
		"DeletionProtectionEnabled", t.DeletionProtection,
		"GlobalSecondaryIndexes", gsis,
		"KeySchema", keys(t.PartitionKey, t.SortKey),
		"PointInTimeRecoverySpecification", o("PointInTimeRecoveryEnabled", t.PointInTimeRecovery),
		"TableName", sub(t.Name),
		"TimeToLiveSpecification", o("AttributeName", t.TTLAttribute, "Enabled", true),
	),
		// The table is the system of record: deleting the stack must not delete it.
		"UpdateReplacePolicy", "Retain", "DeletionPolicy", "Retain")
}

func queue(q topology.Queue) omap {
	props := omap{}
	if q.FIFO {
		props = append(props, kv{"FifoQueue", true})
	}
	if q.HighThroughput {
		props = append(props, kv{"DeduplicationScope", "messageGroup"}, kv{"FifoThroughputLimit", "perMessageGroupId"})
	}
	props = append(props,
		kv{"MessageRetentionPeriod", int(q.Retention.Seconds())},
		kv{"QueueName", sub(q.Name)})
	if q.DLQ != "" {
		props = append(props, kv{"RedrivePolicy", o("deadLetterTargetArn", getAtt(q.DLQ, "Arn"), "maxReceiveCount", q.MaxReceiveCount)})
	}
	props = append(props, kv{"SqsManagedSseEnabled", true}, kv{"VisibilityTimeout", int(q.Visibility.Seconds())})
	return o("Type", "AWS::SQS::Queue", "Properties", props, "UpdateReplacePolicy", "Delete", "DeletionPolicy", "Delete")
}

// resolve turns a declaration reference into a CloudFormation value for function f.
func resolve(t topology.Topology, r topology.Ref, f topology.Function) any {
	switch r.Kind {
	case topology.RefLiteral:
		return sub(r.Value)
	case topology.RefTableName:
		return ref(t.Table.LogicalID)
	case topology.RefTableArn:
		return getAtt(t.Table.LogicalID, "Arn")
	case topology.RefTableIndexes:
		return fnSub("${" + t.Table.LogicalID + ".Arn}/index/*")
	case topology.RefQueueURL:
		return ref(r.ID)
	case topology.RefQueueArn:
		return getAtt(r.ID, "Arn")
	case topology.RefSecrets:
		return fnSub(topology.SecretsArnPattern(r.Value))
	case topology.RefLogGroupArn:
		return getAtt(f.LogGroup.LogicalID, "Arn")
	case topology.RefAnyResource:
		return "*"
	}
	panic("unknown reference kind " + string(r.Kind))
}

func role(t topology.Topology, f topology.Function) omap {
	var stmts []any
	for _, p := range f.Permissions {
		var rs []any
		for _, r := range p.Resources {
			rs = append(rs, resolve(t, r, f))
		}
		stmts = append(stmts, statement(p.Actions, rs))
	}
	return o("Type", "AWS::IAM::Role", "Properties", o(
		"AssumeRolePolicyDocument", o("Statement", []any{o(
			"Action", "sts:AssumeRole", "Effect", "Allow", "Principal", o("Service", "lambda.amazonaws.com"))},
			"Version", "2012-10-17"),
		"Policies", []any{o("PolicyDocument", o("Statement", stmts, "Version", "2012-10-17"), "PolicyName", topology.PolicyName)},
	))
}

func function(t topology.Topology, f topology.Function) omap {
	env := omap{}
	vars := append([]topology.EnvVar(nil), f.Env...)
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	for _, e := range vars {
		env = append(env, kv{e.Name, resolve(t, e.Value, f)})
	}
	events := omap{}
	switch f.Trigger.Kind {
	case topology.TriggerQueue:
		sqsProps := o(
			"Queue", getAtt(f.Trigger.Queue, "Arn"),
			"BatchSize", f.Trigger.BatchSize,
			"FunctionResponseTypes", []string{"ReportBatchItemFailures"})
		if f.Trigger.MaxConcurrency > 0 {
			sqsProps = append(sqsProps, kv{"ScalingConfig", o("MaximumConcurrency", f.Trigger.MaxConcurrency)})
		}
		events = append(events, kv{topology.QueueEventName, o("Type", "SQS", "Properties", sqsProps)})
	case topology.TriggerHTTP:
		for _, r := range t.Routes {
			if r.Function != f.LogicalID {
				continue
			}
			events = append(events, kv{RouteEventName(r), o("Type", "HttpApi", "Properties", o(
				"ApiId", ref(topology.HTTPAPIID), "Method", r.Method, "Path", r.Path))})
		}
	}
	props := o(
		"FunctionName", sub(f.Name),
		"Description", f.Description,
		"CodeUri", f.CodeDir,
		"Handler", topology.Handler,
		"Runtime", topology.Runtime,
		"Architectures", []string{topology.Architecture},
		"MemorySize", f.MemoryMB,
		"Timeout", int(f.Timeout.Seconds()),
		"Role", getAtt(f.LogicalID+"Role", "Arn"),
		"LoggingConfig", o("LogGroup", ref(f.LogGroup.LogicalID)),
		"Environment", o("Variables", env),
	)
	if f.ReservedConcurrency > 0 {
		props = append(props, kv{"ReservedConcurrentExecutions", f.ReservedConcurrency})
	}
	if f.Tracing {
		props = append(props, kv{"Tracing", "Active"})
	}
	if len(events) > 0 {
		props = append(props, kv{"Events", events})
	}
	// SAM's Go builder: `go build` in CodeUri (the module root is found upward), GOOS=linux
	// GOARCH from Architectures, -trimpath. See infra/README.md for GOFLAGS.
	return o("Type", "AWS::Serverless::Function",
		"Metadata", o("BuildMethod", "go1.x", "BuildProperties", o("TrimGoPath", true)),
		"Properties", props)
}

// RouteEventName names a route's SAM event: "GET /v1/erp/orders/{id}/ack" -> GetV1ErpOrdersIdAck.
func RouteEventName(r topology.Route) string {
	var b strings.Builder
	word := func(w string) {
		w = strings.Trim(w, "{}+")
		for _, part := range strings.FieldsFunc(w, func(c rune) bool { return c == '-' || c == '_' || c == '.' }) {
			b.WriteString(strings.ToUpper(part[:1]) + strings.ToLower(part[1:]))
		}
	}
	word(r.Method)
	for _, seg := range strings.Split(r.Path, "/") {
		if seg != "" {
			word(seg)
		}
	}
	return b.String()
}

func outputs(t topology.Topology) omap {
	out := o("ApiUrl", o("Description", "PONTE_API_URL",
		"Value", fnSub("https://${"+topology.HTTPAPIID+"}.execute-api.${AWS::Region}.${AWS::URLSuffix}/")))
	f := t.Functions[0]
	for _, e := range t.OutputEnv() {
		out = append(out, kv{topology.OutputID(e.Name), o("Description", e.Name, "Value", resolve(t, e.Value, f))})
	}
	return out
}
