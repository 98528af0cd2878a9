// SPDX-License-Identifier: Apache-2.0

// fg-svc is the HTTP service the demo and the integration tests run under
// faultgate. Standard library only, built statically (CGO_ENABLED=0), so it
// makes its file and socket I/O through raw syscalls the way production Go
// services do.
//
//	/healthz  answers at once: no file, no upstream
//	/work     reads -file with os.ReadFile (open, read, close per request)
//	/chain    GETs -upstream through one shared keep-alive client; 502 on failure
//	/cpu      spins through -cpu-work rounds of arithmetic
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
	"syscall"
	"time"
)

type service struct {
	file     string
	upstream string
	cpuWork  int
	client   *http.Client
}

func (s *service) healthz(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "ok\n")
}

func (s *service) work(w http.ResponseWriter, r *http.Request) {
	b, err := os.ReadFile(s.file)
	if err != nil {
		http.Error(w, "read "+s.file+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "read %d bytes\n", len(b))
}

func (s *service) chain(w http.ResponseWriter, r *http.Request) {
	if s.upstream == "" {
		http.Error(w, "no -upstream configured", http.StatusNotImplemented)
		return
	}
	resp, err := s.client.Get(s.upstream)
	if err != nil {
		http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode/100 != 2 {
		http.Error(w, fmt.Sprintf("upstream status %d, %d bytes", resp.StatusCode, n),
			http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "upstream %d bytes\n", n)
}

// spin does n rounds of an xorshift step; the result is printed so the
// compiler cannot drop the loop.
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func (s *service) cpu(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "%x\n", spin(s.cpuWork))
}

// ensureFile creates the file with a little content if it does not exist, so
// /work has something to read on a fresh machine.
func ensureFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	content := make([]byte, 512)
	for i := range content {
		content[i] = byte('a' + i%26)
	}
	return os.WriteFile(path, content, 0o644)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address")
	file := flag.String("file", "/tmp/fg-svc.data", "file read by every /work request")
	upstream := flag.String("upstream", "", "URL fetched by every /chain request")
	cpuWork := flag.Int("cpu-work", 200000, "rounds of arithmetic per /cpu request")
	flag.Parse()

	if err := ensureFile(*file); err != nil {
		log.Fatalf("fg-svc: %v", err)
	}
	s := &service{
		file:     *file,
		upstream: *upstream,
		cpuWork:  *cpuWork,
		client: &http.Client{
			Timeout: 5 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns:        64,
				MaxIdleConnsPerHost: 64,
				IdleConnTimeout:     90 * time.Second,
			},
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/work", s.work)
	mux.HandleFunc("/chain", s.chain)
	mux.HandleFunc("/cpu", s.cpu)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("fg-svc: %v", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		sig := <-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Printf("fg-svc: shutdown after %v: %v", sig, err)
		}
		close(done)
	}()

	log.Printf("fg-svc: listening on %s pid %d file %s upstream %q",
		ln.Addr(), os.Getpid(), *file, *upstream)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("fg-svc: %v", err)
	}
	<-done
	log.Printf("fg-svc: stopped")
}
