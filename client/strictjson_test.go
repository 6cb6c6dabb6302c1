package client

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	many := func(n int, dupAt int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			name := i
			if i == dupAt {
				name = 0
			}
			fmt.Fprintf(&b, `"m%d":%d`, name, i)
		}
		b.WriteString("}")
		return b.String()
	}
	tests := []struct {
		in   string
		want error // nil: accepted; errJSONSyntax stands for any syntax error
	}{
		{`{}`, nil},
		{` {"a":1} `, nil},
		{`{"a":{"b":[1,2,{"c":null}]},"b":true,"c":false,"d":-1.5e+3,"e":"x\"y\u00e9\n"}`, nil},
		{`{"a":1,"b":{"a":2}}`, nil}, // same name in different objects
		{`{"sub":1,"SUB":2}`, nil},   // names are case-sensitive
		{many(40, -1), nil},
		{`{"a":1,"a":2}`, errJSONDuplicate},
		{`{"a":1,"\u0061":2}`, errJSONDuplicate},
		{`{"a\/b":1,"a/b":2}`, errJSONDuplicate},
		{`{"x":{"a":1,"b":2,"a":3}}`, errJSONDuplicate},
		{`{"x":[{"a":1,"a":1}]}`, errJSONDuplicate},
		{many(40, 30), errJSONDuplicate},
		{many(17, 16), errJSONDuplicate},
		{strings.Repeat(`{"a":`, 16) + `1` + strings.Repeat(`}`, 16), nil},
		{strings.Repeat(`{"a":`, 17) + `1` + strings.Repeat(`}`, 17), errJSONDepth},
		{`{"a":` + strings.Repeat(`[`, 20) + strings.Repeat(`]`, 20) + `}`, errJSONDepth},
		{`[]`, errJSONNotObject},
		{`"a"`, errJSONNotObject},
		{``, errJSONNotObject},
		{`{"a":1}{}`, errJSONSyntax},
		{`{"a":1,}`, errJSONSyntax},
		{`{"a" 1}`, errJSONSyntax},
		{`{a:1}`, errJSONSyntax},
		{`{"a":01}`, errJSONSyntax},
		{`{"a":1.}`, errJSONSyntax},
		{`{"a":1e}`, errJSONSyntax},
		{`{"a":-}`, errJSONSyntax},
		{`{"a":+1}`, errJSONSyntax},
		{`{"a":tru}`, errJSONSyntax},
		{`{"a":"\x"}`, errJSONSyntax},
		{`{"a":"\u12"}`, errJSONSyntax},
		{"{\"a\":\"\x01\"}", errJSONSyntax},
		{"{\"a\":\"\xff\"}", errJSONSyntax},
		{`{"a":"`, errJSONSyntax},
		{`{"a":[1,2}`, errJSONSyntax},
	}
	for _, tt := range tests {
		err := checkJSON([]byte(tt.in), maxPayloadDepth, nil)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("checkJSON(%.50q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestCheckJSONTopNames(t *testing.T) {
	var got []string
	err := checkJSON([]byte(`{"alg":"EdDSA","k\u0069d":{"x":1},"typ":"at+jwt"}`), 2, func(name []byte) error {
		got = append(got, string(name))
		return nil
	})
	if err != nil || strings.Join(got, ",") != "alg,kid,typ" {
		t.Errorf("top-level names = %q, %v; want alg,kid,typ", got, err)
	}
	stop := errors.New("stop")
	if err := checkJSON([]byte(`{"a":1}`), 1, func([]byte) error { return stop }); err != stop {
		t.Errorf("checkJSON with a failing callback = %v, want its error", err)
	}
}

func TestCheckJSONAllocations(t *testing.T) {
	payload := mustMarshal(t, claimsAt(testIssuer, t0))
	allocs := testing.AllocsPerRun(100, func() {
		if err := checkJSON(payload, maxPayloadDepth, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("checkJSON(typical claims) allocates %v times, want 0", allocs)
	}
}

// FuzzCheckJSON checks checkJSON against encoding/json: what it accepts must
// be valid JSON, and an object that encoding/json decodes into fewer
// members than checkJSON counts would be a duplicate it missed.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,{"c":"d"}]}`, `{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":-0.5e-7}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := checkJSON(data, maxPayloadDepth, func([]byte) error { n++; return nil })
		if err != nil {
			return
		}
		if !stdjson.Valid(data) {
			t.Fatalf("checkJSON(%q) accepted invalid JSON", data)
		}
		var m map[string]stdjson.RawMessage
		if err := stdjson.Unmarshal(data, &m); err != nil {
			t.Fatalf("checkJSON(%q) accepted what encoding/json refuses: %v", data, err)
		}
		if len(m) != n {
			t.Fatalf("checkJSON(%q) saw %d unique members, encoding/json %d", data, n, len(m))
		}
	})
}
