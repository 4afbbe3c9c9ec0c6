// The web process of the Go example app: binds $PORT, answers / and /health, and talks to
// the attached add-ons on /db, /redis and /mail.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "5000"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"app": "slipway-example-go", "go": runtime.Version(), "dyno": os.Getenv("DYNO")})
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /db", func(w http.ResponseWriter, r *http.Request) {
		db, err := database()
		if db == nil && err == nil {
			writeJSON(w, 503, map[string]string{"database": "not configured"})
			return
		}
		var version string
		if err == nil {
			err = db.QueryRowContext(r.Context(), "SELECT version()").Scan(&version)
		}
		if err != nil {
			writeJSON(w, 502, map[string]string{"database": "error", "error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]string{"database": "ok", "version": version})
	})
	mux.HandleFunc("GET /redis", func(w http.ResponseWriter, r *http.Request) {
		rdb, err := redisClient()
		if rdb == nil && err == nil {
			writeJSON(w, 503, map[string]string{"redis": "not configured"})
			return
		}
		var hits int64
		if err == nil {
			hits, err = rdb.Incr(r.Context(), "example:hits").Result()
		}
		if err != nil {
			writeJSON(w, 502, map[string]string{"redis": "error", "error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{"redis": "ok", "hits": hits})
	})
	mux.HandleFunc("GET /mail", func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		if to == "" {
			to = "someone@example.com"
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		ok, err := sendMail(ctx, to)
		switch {
		case !ok:
			writeJSON(w, 503, map[string]string{"mail": "not configured"})
		case err != nil:
			writeJSON(w, 502, map[string]string{"mail": "error", "error": err.Error()})
		default:
			writeJSON(w, 200, map[string]string{"mail": "sent", "to": to})
		}
	})

	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		log.Printf("listening on port %s", port)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
