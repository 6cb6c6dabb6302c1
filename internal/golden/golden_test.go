package golden

import "testing"

func TestFirstDifference(t *testing.T) {
	for _, tt := range []struct{ got, want, say string }{
		{"a\nb\n", "a\nc\n", `line 2 is "b", want "c"`},
		{"a\n", "a\nb\n", `line 2 is "", want "b"`},
		{"a", "a", "they differ"},
	} {
		if got := FirstDifference(tt.got, tt.want); got != tt.say {
			t.Errorf("FirstDifference(%q, %q) = %q, want %q", tt.got, tt.want, got, tt.say)
		}
	}
}
