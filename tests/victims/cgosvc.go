// SPDX-License-Identifier: Apache-2.0

// fg-cgosvc is the cgo build of a small HTTP service: dynamically linked,
// so the LD_PRELOAD shim loads into it, and with GODEBUG=netdns=cgo its
// name lookups go through the C library's getaddrinfo on a thread of their
// own. It is the victim of the cgo-block and in-process mem-leak tests.
//
//	/healthz  answers at once
//	/lookup   resolves -name with net.DefaultResolver.LookupHost
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	name := flag.String("name", "localhost", "host name resolved by every /lookup request")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/lookup", func(w http.ResponseWriter, r *http.Request) {
		addrs, err := net.DefaultResolver.LookupHost(r.Context(), *name)
		if err != nil {
			http.Error(w, "lookup "+*name+": "+err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "%s\n", strings.Join(addrs, " "))
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("fg-cgosvc: %v", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		close(done)
	}()
	log.Printf("fg-cgosvc: listening on %s pid %d", ln.Addr(), os.Getpid())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("fg-cgosvc: %v", err)
	}
	<-done
}
