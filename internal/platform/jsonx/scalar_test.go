package jsonx

import (
	"encoding/json"
	"testing"
)

func TestScalar(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{`"12"`, "12", false},
		{`12`, "12", false},
		{`12345678901234567890`, "12345678901234567890", false},
		{`19.90`, "19.90", false},
		{`true`, "true", false},
		{`null`, "", false},
		{`[]`, "", false},
		{`{"a":1}`, "", false},
		{`" padded "`, "padded", false},
		{`"bad`, "", true},
	}
	for _, tt := range tests {
		var v struct {
			X Scalar `json:"x"`
		}
		err := json.Unmarshal([]byte(`{"x":`+tt.in+`}`), &v)
		if (err != nil) != tt.err || (!tt.err && v.X.Str() != tt.want) {
			t.Errorf("%s: got %q, %v; want %q (error %v)", tt.in, v.X.Str(), err, tt.want, tt.err)
		}
	}
}
