// Package simorders holds the cross-platform test that every simulator places orders and
// delivers them exactly as its connector expects (see platformsim.OrderPlacer). It has no
// code of its own: the test lives here because it imports every connector and every kit.
package simorders
