package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/smtp"
	"net/url"
	"os"
	"sync"
	"time"

	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"
)

// Clients for the add-ons Slipway attaches are opened lazily, on first use, so the app
// boots and answers /health without any of them.
var (
	dbOnce    sync.Once
	dbHandle  *sql.DB
	dbErr     error
	redisOnce sync.Once
	redisConn *redis.Client
	redisErr  error
)

// database returns a pool for DATABASE_URL, or nil when no database is attached.
func database() (*sql.DB, error) {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return nil, nil
	}
	dbOnce.Do(func() {
		dbHandle, dbErr = sql.Open("postgres", dsn)
		if dbErr == nil {
			dbHandle.SetMaxOpenConns(4)
		}
	})
	return dbHandle, dbErr
}

// redisClient returns a client for REDIS_URL, or nil when no Redis is attached.
func redisClient() (*redis.Client, error) {
	raw := os.Getenv("REDIS_URL")
	if raw == "" {
		return nil, nil
	}
	redisOnce.Do(func() {
		var opts *redis.Options
		opts, redisErr = redis.ParseURL(raw)
		if redisErr == nil {
			opts.DialTimeout = 5 * time.Second
			redisConn = redis.NewClient(opts)
		}
	})
	return redisConn, redisErr
}

// sendMail sends one message through SMTP_URL (smtp://user:pass@host:port); ok is false
// when no mail add-on is attached.
func sendMail(ctx context.Context, to string) (ok bool, err error) {
	raw := os.Getenv("SMTP_URL")
	if raw == "" {
		return false, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return true, fmt.Errorf("SMTP_URL is not a URL: %w", err)
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "25"
	}
	var auth smtp.Auth
	if u.User != nil {
		pass, _ := u.User.Password()
		auth = smtp.PlainAuth("", u.User.Username(), pass, host)
	}
	msg := []byte("From: app@example.com\r\nTo: " + to + "\r\nSubject: Hello from Slipway\r\n\r\nSent by the Go example app.\r\n")
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(host+":"+port, auth, "app@example.com", []string{to}, msg) }()
	select {
	case err = <-done:
		return true, err
	case <-ctx.Done():
		return true, ctx.Err()
	}
}
