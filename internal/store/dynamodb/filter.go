package dynamodb

import "github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

// withEquals adds a filter requiring each attribute to equal its value, given as name,
// value pairs; an empty value matches everything and is left out. It reports whether any
// filter was added (a filtered query reads rows it does not return).
func withEquals(b expression.Builder, pairs ...string) (expression.Builder, bool) {
	var cond expression.ConditionBuilder
	n := 0
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		c := expression.Name(pairs[i]).Equal(expression.Value(pairs[i+1]))
		if n == 0 {
			cond = c
		} else {
			cond = cond.And(c)
		}
		n++
	}
	if n == 0 {
		return b, false
	}
	return b.WithFilter(cond), true
}
