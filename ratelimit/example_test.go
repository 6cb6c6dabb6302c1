package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

func ExampleMemory() {
	lim, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	l := ratelimit.Per(3, time.Hour)
	for range 4 {
		r, _ := lim.Allow(ctx, "some-key", l)
		fmt.Println(r.Allowed, r.Remaining, r.RetryAfterSeconds())
	}
	// Output:
	// true 2 0
	// true 1 0
	// true 0 0
	// false 0 1200
}

// The sign-in path: peek before checking the password, count failures,
// and hand out a device token on success.
func ExamplePolicy_Login() {
	devices, err := ratelimit.NewDevice([]byte("the server's 32-byte master key!"))
	if err != nil {
		log.Fatal(err)
	}
	lim, _ := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	policy, err := ratelimit.NewPolicy(ratelimit.PolicyConfig{Limiter: lim, Devices: devices})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	checkPassword := func(password string) bool { return password == "correct horse" }

	signIn := func(a ratelimit.Attempt, password string) string {
		r, err := policy.Login(ctx, a)
		if err != nil {
			return "503 Retry-After: 5" // the limiter is down: refuse
		}
		if !r.Allowed {
			return "429 Retry-After: " + strconv.Itoa(r.RetryAfterSeconds())
		}
		if !checkPassword(password) {
			policy.LoginFailed(ctx, a)
			return "401"
		}
		token, _ := policy.LoginSucceeded(ctx, a)
		_ = token // set as the ratelimit.DeviceCookie cookie
		return "200"
	}

	owner := ratelimit.Attempt{Identifier: "alice@example.com", IP: netip.MustParseAddr("192.0.2.7"), UserID: "u_alice"}
	owner.DeviceToken, _ = policy.LoginSucceeded(ctx, owner) // signed in once before

	attacker := ratelimit.Attempt{Identifier: "Alice@Example.com", IP: netip.MustParseAddr("203.0.113.9"), UserID: "u_alice"}
	for range 10 {
		signIn(attacker, "guess")
	}
	fmt.Println("attacker, right password:", signIn(attacker, "correct horse"))
	fmt.Println("owner on a trusted device:", signIn(owner, "correct horse"))
	// Output:
	// attacker, right password: 429 Retry-After: 90
	// owner on a trusted device: 200
}

func ExampleDevice() {
	devices, err := ratelimit.NewDevice([]byte("the server's 32-byte master key!"))
	if err != nil {
		log.Fatal(err)
	}
	token := devices.Issue("u_alice")
	cookie := &http.Cookie{Name: ratelimit.DeviceCookie, Value: token, Path: "/",
		MaxAge: int(ratelimit.DefaultDeviceMaxAge / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	fmt.Println(cookie.Name, len(cookie.Value))

	_, ok := devices.Valid(token, "u_alice")
	fmt.Println("valid for u_alice:", ok)
	_, ok = devices.Valid(token, "u_bob")
	fmt.Println("valid for u_bob:", ok)
	// Output:
	// gatehouse_device 80
	// valid for u_alice: true
	// valid for u_bob: false
}

// Several nodes share one Redis. Short timeouts make an outage quick to
// notice; the caller then refuses the request.
func ExampleNewRedis() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		DialTimeout:           500 * time.Millisecond,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		MaxRetries:            1,
		ContextTimeoutEnabled: true,
	})
	lim, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: client})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := lim.Ping(ctx); err != nil {
		log.Printf("rate limits unavailable: %v", err)
	}
	r, err := lim.Allow(ctx, "some-key", ratelimit.PerMinute(10))
	switch {
	case errors.Is(err, ratelimit.ErrUnavailable):
		fmt.Println("503, Retry-After: 5")
	case !r.Allowed:
		fmt.Println("429, Retry-After:", r.RetryAfterSeconds())
	}
}
