package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
)

func main() {
	dir, _ := os.MkdirTemp("", "prof")
	defer os.RemoveAll(dir)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	cfg := gatehouse.DefaultConfig()
	cfg.DatabaseURL = "sqlite://" + dir + "/g.db"
	cfg.DataDir = dir
	cfg.SecretKey = "0123456789abcdef0123456789abcdef0123"
	cfg.PublicURL = "http://" + ln.Addr().String()
	g, err := gatehouse.New(cfg, gatehouse.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		panic(err)
	}
	defer g.Close()
	go http.Serve(ln, g.Handler())
	for i := range 16 {
		u := fmt.Sprintf("user%d", i)
		if _, err := g.Accounts().Register(context.Background(), accounts.Registration{Username: u, Email: u + "@example.com", Password: "correct horse battery staple"}); err != nil {
			panic(err)
		}
	}
	f, _ := os.Create("/tmp/login.prof")
	pprof.StartCPUProfile(f)
	var n atomic.Int64
	var wg sync.WaitGroup
	dl := time.Now().Add(6 * time.Second)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{}
			for time.Now().Before(dl) {
				body := fmt.Sprintf(`{"login":"user%d","password":"correct horse battery staple"}`, i)
				resp, err := c.Post(cfg.PublicURL+"/api/auth/login", "application/json", bytes.NewReader([]byte(body)))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						n.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	pprof.StopCPUProfile()
	fmt.Println("logins", n.Load())
}
