package ratelimittest

import "testing"

func TestMemoryPassesTheContract(t *testing.T) { Run(t, NewMemory(), "") }
