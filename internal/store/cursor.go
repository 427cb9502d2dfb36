package store

import "errors"

// ErrBadCursor: a listing's cursor is not one that listing gave out (garbled, truncated,
// or from another listing). It is the caller's mistake, never the store's: answer 400.
var ErrBadCursor = errors.New("not a cursor this listing gave out")
