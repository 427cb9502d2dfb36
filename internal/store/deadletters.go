package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DeadLetter is one dead-lettered queue message filed under its tenant and connection:
// the failure inbox's row. It keeps the whole message (body, group, key), so a retry
// sends it again without finding it in the queue's own dead-letter store (an SQS DLQ
// can only be walked, never looked up by id). Tenant, Queue and ID identify it: ID is
// the message's id in its queue, the same on every redelivery, so filing the same
// message twice overwrites one row.
type DeadLetter struct {
	Tenant     string `json:"tenant"`
	Connection string `json:"connection,omitempty"`
	Queue      string `json:"queue"`
	ID         string `json:"id"`
	Reason     string `json:"reason"`
	Attempts   int    `json:"attempts"`
	// SentAt is the message's first send; DeadAt when it was dead-lettered.
	SentAt time.Time `json:"sent_at"`
	DeadAt time.Time `json:"dead_at"`
	Group  string    `json:"group,omitempty"`
	Key    string    `json:"key,omitempty"`
	Body   []byte    `json:"body"`
}

// DeadLetterFilter narrows a listing; empty fields match everything.
type DeadLetterFilter struct {
	Connection string
	Queue      string
}

// DeadLetterCount is how many dead letters a tenant has in one queue for one connection
// (Connection "" for messages that name none, such as fan-out messages).
type DeadLetterCount struct {
	Queue      string `json:"queue"`
	Connection string `json:"connection"`
	Count      int    `json:"count"`
}

// DeadLetterStore is the dead-letter index (embedded in Store). Every method is scoped
// to one tenant: no cursor, id or filter reaches another tenant's rows.
type DeadLetterStore interface {
	// PutDeadLetter files d, replacing the row with the same tenant, queue and id.
	PutDeadLetter(ctx context.Context, d DeadLetter) error
	// GetDeadLetter reads one row; ErrNotFound when the tenant has none with that id there.
	GetDeadLetter(ctx context.Context, tenant, queue, id string) (DeadLetter, error)
	// ListDeadLetters pages through the tenant's dead letters matching f, newest DeadAt
	// first (ties: queue, then id, descending). cursor "" starts; next "" is the end;
	// a cursor that ParseDeadLetterCursor refuses is an error. Every row that exists for
	// the whole walk is returned exactly once.
	ListDeadLetters(ctx context.Context, tenant string, f DeadLetterFilter, cursor string, limit int) (rows []DeadLetter, next string, err error)
	// CountDeadLetters counts the tenant's dead letters exactly, per queue and
	// connection, sorted by queue then connection; pairs with none are left out.
	CountDeadLetters(ctx context.Context, tenant string) ([]DeadLetterCount, error)
	// DeleteDeadLetter removes a row; removing one that is not there is not an error.
	DeleteDeadLetter(ctx context.Context, tenant, queue, id string) error
}

// ValidateDeadLetter checks the shape every backend requires of a row.
func ValidateDeadLetter(d DeadLetter) error {
	switch {
	case d.Queue == "" || d.ID == "":
		return errors.New("dead letter: queue and id are required")
	case d.DeadAt.IsZero():
		return fmt.Errorf("dead letter %s/%s: dead_at is required", d.Queue, d.ID)
	}
	return nil
}

// ErrBadDeadLetterCursor: the cursor was not given out by ListDeadLetters.
var ErrBadDeadLetterCursor = errors.New("not a cursor of the dead-letter listing")

// DeadLetterCursor is the position after the last row of a page. Both backends use it,
// so a cursor is checked the same way (ParseDeadLetterCursor) before any store call.
// It holds no tenant: the listing's tenant comes from the caller.
type DeadLetterCursor struct {
	DeadAt time.Time `json:"t"`
	Queue  string    `json:"q"`
	ID     string    `json:"i"`
}

// CursorAfter is the cursor that continues after d.
func CursorAfter(d DeadLetter) string {
	b, _ := json.Marshal(DeadLetterCursor{DeadAt: d.DeadAt.UTC(), Queue: d.Queue, ID: d.ID}) // plain fields: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseDeadLetterCursor decodes a cursor of ListDeadLetters ("" is the start, zero value).
func ParseDeadLetterCursor(s string) (DeadLetterCursor, error) {
	if s == "" {
		return DeadLetterCursor{}, nil
	}
	if len(s) > 2048 {
		return DeadLetterCursor{}, ErrBadDeadLetterCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return DeadLetterCursor{}, ErrBadDeadLetterCursor
	}
	var c DeadLetterCursor
	if err := json.Unmarshal(b, &c); err != nil || c.Queue == "" || c.ID == "" || c.DeadAt.IsZero() {
		return DeadLetterCursor{}, ErrBadDeadLetterCursor
	}
	return c, nil
}
