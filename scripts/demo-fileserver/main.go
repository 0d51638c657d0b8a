// Command demo-fileserver serves the files of a directory over plain HTTP on
// a loopback address, for make demo: it stands for wherever a requester keeps
// the data of a request held by reference (payload_uri). It logs each
// request on stderr and stops on SIGINT or SIGTERM.
//
//	go run ./scripts/demo-fileserver -addr 127.0.0.1:38080 -dir DIR
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:38080", "address to listen on")
	dir := flag.String("dir", ".", "directory whose files are served")
	flag.Parse()
	files := http.FileServer(http.Dir(*dir))
	srv := &http.Server{
		Addr:              *addr,
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.Printf("%s %s from %s", r.Method, r.URL.Path, r.RemoteAddr)
			files.ServeHTTP(w, r)
		}),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("serving %s on http://%s", *dir, *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
		os.Exit(1)
	}
}
