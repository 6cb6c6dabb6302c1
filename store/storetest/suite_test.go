package storetest

import (
	"testing"
)

func TestConformance(t *testing.T) {
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) { Run(t, b.Open) })
	}
}
