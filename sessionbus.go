package gatehouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-dev/gatehouse/session"
)

// sessionCacheTTL is how long a node answers session checks from memory
// (see session.Config.CacheTTL): short enough that a change no node
// announces (an admin changing roles, a command-line tool) is seen within
// half a second everywhere, long enough to save most reads under load.
const sessionCacheTTL = 500 * time.Millisecond

// Session cache invalidation between nodes, over Redis pub/sub.
//
// A node that ends a session publishes its ID (or the user's ID) on
// busChannel; every node drops it from its cache on receipt. Pub/sub does
// not keep messages for a subscriber that is away, so a node trusts its
// cache only while it knows it is subscribed: it pings Redis over the
// subscription every busHeartbeat, and each answer lets the cache serve for
// busValidFor more. When Redis stops answering, the cache stops serving
// within busValidFor and every check reads the database, which always has
// the truth; when the subscription is back, the cache is emptied before it
// serves again.
const (
	busChannel   = "gatehouse:sessions"
	busHeartbeat = 200 * time.Millisecond
	busValidFor  = 600 * time.Millisecond
)

// redisBus implements session.Bus.
type redisBus struct {
	client *redis.Client
	log    *slog.Logger
	out    chan session.Invalidation // to publish, in order
	stop   context.CancelFunc
	done   sync.WaitGroup
}

// busQueue bounds the invalidations waiting to be published. A node ends
// sessions far more slowly than Redis takes messages; the queue fills only
// while Redis is down, and what it then drops the other nodes do not need
// (they stop trusting their caches while they cannot hear).
const busQueue = 1024

// newBus connects the session caches of the nodes sharing cfg.RedisURL. It
// returns nil without Redis: one node has nobody to tell.
func newBus(cfg Config, log *slog.Logger) (*redisBus, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("redis_url: %w", err)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	opts.MaxRetries, opts.ContextTimeoutEnabled = 1, true
	return &redisBus{client: redis.NewClient(opts), log: log, out: make(chan session.Invalidation, busQueue)}, nil
}

// sessionBus returns b as a session.Bus, or nil (an interface holding no
// value, not a nil *redisBus) without Redis.
func (b *redisBus) sessionBus() session.Bus {
	if b == nil {
		return nil
	}
	return b
}

// Publish implements session.Bus. It queues inv and returns at once, so that
// ending a session (which is done once the database says so) never waits on
// Redis; a background goroutine publishes the queue in order.
func (b *redisBus) Publish(ctx context.Context, inv session.Invalidation) error {
	select {
	case b.out <- inv:
		return nil
	default:
		return errors.New("session invalidation queue full: Redis is not taking messages")
	}
}

// publish sends the queue to Redis until ctx ends, then what is left.
func (b *redisBus) publish(ctx context.Context) {
	send := func(inv session.Invalidation) {
		data, err := json.Marshal(inv)
		if err != nil {
			return
		}
		pctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := b.client.Publish(pctx, busChannel, data).Err(); err != nil {
			b.log.Warn("telling other nodes of a session change failed; they see it within the session cache's lifetime",
				"error", err, "ttl", sessionCacheTTL)
		}
	}
	for {
		select {
		case inv := <-b.out:
			send(inv)
		case <-ctx.Done():
			for {
				select {
				case inv := <-b.out:
					send(inv)
				default:
					return
				}
			}
		}
	}
}

// start subscribes in the background, feeding m, until close.
func (b *redisBus) start(m *session.Manager) {
	if b == nil {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.done.Add(2)
	go func() {
		defer b.done.Done()
		b.run(ctx, m)
	}()
	go func() {
		defer b.done.Done()
		b.publish(ctx)
	}()
}

func (b *redisBus) close() {
	if b == nil {
		return
	}
	if b.stop != nil {
		b.stop()
		b.done.Wait()
	}
	b.client.Close()
}

// run keeps a subscription up, retrying after failures, until ctx ends.
func (b *redisBus) run(ctx context.Context, m *session.Manager) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.subscribe(ctx, m)
		m.CacheValidUntil(time.Time{})
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("session cache invalidation: not subscribed; checking every session in the database until Redis answers",
			"error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// subscribe holds one subscription until it fails or ctx ends.
func (b *redisBus) subscribe(ctx context.Context, m *session.Manager) error {
	ps := b.client.Subscribe(ctx, busChannel)
	defer ps.Close()
	// The first reply confirms the subscription; only from then on are
	// messages certain to arrive.
	if _, err := ps.ReceiveTimeout(ctx, 2*time.Second); err != nil {
		return err
	}
	m.Forget(session.Invalidation{All: true}) // what was missed meanwhile
	m.CacheValidUntil(time.Now().Add(busValidFor))
	b.log.Info("session cache invalidation: subscribed")
	for {
		// go-redis's pub/sub calls do not all watch ctx; look ourselves.
		if err := ctx.Err(); err != nil {
			return err
		}
		msg, err := ps.ReceiveTimeout(ctx, busHeartbeat)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			// Quiet: ask Redis to answer over the subscription.
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		switch msg := msg.(type) {
		case *redis.Message:
			var inv session.Invalidation
			if err := json.Unmarshal([]byte(msg.Payload), &inv); err != nil {
				// Not ours to read: drop everything rather than guess.
				inv = session.Invalidation{All: true}
			}
			m.Forget(inv)
		case *redis.Pong, *redis.Subscription:
		default:
			continue
		}
		m.CacheValidUntil(time.Now().Add(busValidFor))
	}
}
