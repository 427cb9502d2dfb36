package app_test

import (
	"strings"
	"testing"
)

// A connection id is the FIFO message group of its pushes: one SQS refuses (a space, an
// accent, over 128 characters) is refused at setup, naming the field, instead of failing
// every fan-out batch later.
func TestSetupRefusesConnectionIDsSQSRefuses(t *testing.T) {
	cases := []struct {
		id      string
		wantErr bool
	}{
		{"acme-tray-1", false},
		{"loja centro", true},
		{"são-paulo-1", true},
		{strings.Repeat("x", 129), true},
		{"", true},
	}
	for _, c := range cases {
		s := validSetup()
		s.Connections[0].ID = c.id
		s.Mappings = nil
		err := s.Validate()
		if !c.wantErr {
			if err != nil {
				t.Errorf("%q: %v", c.id, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "connections[0].id: ") {
			t.Errorf("%q: error %v, want one naming connections[0].id", c.id, err)
		}
	}
}
