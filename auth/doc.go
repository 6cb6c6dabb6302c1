// Package auth holds Gatehouse's domain: users, roles and the other records an
// authentication server keeps, the error type every layer speaks, and the store
// interfaces that the storage adapters implement.
//
// It imports only the standard library, so every other package can depend on it
// and it can depend on none of them. It does no I/O and holds no policy beyond
// the shape and validity of its values: hashing lives in package password, HTTP
// in package web, SQL in the store adapters.
package auth
