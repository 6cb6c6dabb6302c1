package webauthntest

import (
	"encoding/binary"
	"fmt"
)

// The few CBOR (RFC 8949) shapes an authenticator writes: integers, byte and
// text strings, and maps whose keys the caller lists in CTAP2 canonical order
// (shorter encodings first, then bytewise). Written here rather than taken
// from a library so that the relying party's CBOR decoder is tested against
// an encoder it does not share.

// pair is one entry of a CBOR map.
type pair struct {
	k, v any
}

// cborMap is a CBOR map in the order its pairs are listed.
type cborMap []pair

func cborHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func cborEncode(v any) []byte {
	switch v := v.(type) {
	case int:
		if v < 0 {
			return cborHead(1, uint64(-1-v))
		}
		return cborHead(0, uint64(v))
	case []byte:
		return append(cborHead(2, uint64(len(v))), v...)
	case string:
		return append(cborHead(3, uint64(len(v))), v...)
	case cborMap:
		out := cborHead(5, uint64(len(v)))
		for _, p := range v {
			out = append(out, cborEncode(p.k)...)
			out = append(out, cborEncode(p.v)...)
		}
		return out
	}
	panic(fmt.Sprintf("webauthntest: cannot CBOR-encode %T", v))
}
