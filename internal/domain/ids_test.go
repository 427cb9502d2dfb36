package domain

import (
	"strings"
	"testing"
)

func TestValidateConnectionID(t *testing.T) {
	cases := []struct {
		id string
		ok bool
	}{
		{"demo-tray-1", true},
		{"acme.shop_2", true},
		{"A", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false}, // SQS: at most 128
		{"", false},
		{"loja centro", false}, // space: SQS refuses the group
		{"são-paulo", false},   // accent: SQS refuses the group
		{"a/b", false},         // a URL segment and a secret name separator
		{"-lead", false},
		{"a|b", false},
	}
	for _, c := range cases {
		err := ValidateConnectionID(c.id)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v, want ok=%v", c.id, err, c.ok)
		}
	}
}
