package domain

import (
	"fmt"
	"regexp"
)

// connectionIDPattern: letters, digits, '.', '_' and '-', starting with a letter or digit,
// 1 to 128 characters. A connection id is the SQS FIFO MessageGroupId of its pushes
// (SQS takes 1-128 alphanumerics and punctuation only: a space or an accent makes every
// batch fail), a path segment of its webhook URL and part of its secret's name
// (<platform>/<connection>, which Secrets Manager limits to letters, digits and /_+=.@-),
// so the id keeps to what all three accept, readable in the queue console and the DLQ.
var connectionIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidateConnectionID says why id cannot name a connection; nil when it can.
func ValidateConnectionID(id string) error {
	if id == "" {
		return fmt.Errorf("required")
	}
	if !connectionIDPattern.MatchString(id) {
		return fmt.Errorf("%q: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit (it is the SQS message group, a URL segment and part of the secret's name)", id)
	}
	return nil
}
