//go:build !linux

package hashpool

// lowerPriority does nothing where a single thread's priority cannot be
// set portably.
func lowerPriority() {}
