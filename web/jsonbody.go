package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// decodeJSON reads a JSON request body into v. The body must be declared as
// application/json, so that a cross-site HTML form (which can only send
// "simple" content types) can never reach a JSON endpoint; it is capped by the
// body limit; unknown fields are ignored; anything malformed is
// 400 invalid_request with a message that names no Go internals.
func decodeJSON(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return auth.Errorf(auth.EInvalidRequest, "Send the request body as JSON with Content-Type: application/json.")
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return auth.Errorf(auth.EInvalidRequest, "The request body is too large.")
		case errors.Is(err, io.EOF):
			return auth.Errorf(auth.EInvalidRequest, "The request body is empty; send a JSON object.")
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return &auth.Error{Code: auth.EInvalidRequest, Message: "The field " + typeErr.Field + " has the wrong type.",
				Fields: map[string]string{typeErr.Field: "wrong type"}}
		}
		return auth.Errorf(auth.EInvalidRequest, "The request body is not valid JSON.")
	}
	if dec.More() {
		return auth.Errorf(auth.EInvalidRequest, "The request body must hold one JSON object.")
	}
	return nil
}
