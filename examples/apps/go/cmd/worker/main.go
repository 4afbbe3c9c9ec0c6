// The worker process of the Go example app: takes jobs from the Redis list "jobs" when
// REDIS_URL is set, otherwise logs a heartbeat.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	raw := os.Getenv("REDIS_URL")
	if raw == "" {
		log.Print("worker: REDIS_URL not set, logging a heartbeat every 10 s")
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			log.Print("worker: heartbeat")
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		log.Fatalf("worker: REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	log.Print(`worker: waiting for jobs on Redis list "jobs"`)
	for ctx.Err() == nil {
		item, err := rdb.BLPop(ctx, 2*time.Second, "jobs").Result()
		if err == redis.Nil || ctx.Err() != nil {
			continue
		}
		if err != nil {
			log.Printf("worker: %v", err)
			time.Sleep(time.Second)
			continue
		}
		log.Printf("worker: processed job %s", item[1])
	}
}
