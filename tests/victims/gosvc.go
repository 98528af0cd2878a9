// SPDX-License-Identifier: Apache-2.0

// fg-gosvc is the Go service the GOMAXPROCS and goroutine tests run. It is
// built several ways (static, stripped, PIE, cgo) from this one file.
//
//	/healthz  answers at once
//	/procs    the runtime's current GOMAXPROCS, as a decimal number
//	/cpu      spins through -cpu-work rounds of arithmetic
//	/served   how many /cpu requests were answered so far
//	/leak     starts a goroutine that never ends (when -leak is set), then answers
//	/goroutines  runtime.NumGoroutine()
//
// With -tick D a goroutine wakes every D (an otherwise idle service with a
// periodic job). -spin N starts goroutines that never reach a preemption
// point (for GODEBUG=asyncpreemptoff=1 tests). With -busy N it also keeps N
// goroutines computing and allocating, so a live runtime call finds user
// code on a CPU at any moment. With -churn D, every D a goroutine locks its
// thread and ends, so the runtime ends that thread and starts others: a
// service whose threads come and go. With -sigusr1 it prints a line for
// every SIGUSR1 it receives, so a test can tell whether a signal was lost.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var sink uint64
var sinkMu sync.Mutex

func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// loopForever never calls a function, so only asynchronous preemption can
// stop it; with GODEBUG=asyncpreemptoff=1 it blocks every stop-the-world.
func loopForever() {
	x := uint64(1)
	for {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if x == 0 {
			sink = x
		}
	}
}

// churnThreads ends one OS thread every period: a goroutine that exits
// while locked to its thread takes the thread with it.
func churnThreads(period time.Duration) {
	for {
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(done)
		}()
		<-done
		time.Sleep(period)
	}
}

// churn computes and allocates in small steps for ever.
func churn() {
	var keep [][]byte
	for i := 0; ; i++ {
		x := spin(2000)
		keep = append(keep, make([]byte, 256+int(x%512)))
		if len(keep) > 512 {
			keep = keep[:0]
		}
		if i%64 == 0 {
			sinkMu.Lock()
			sink += x
			sinkMu.Unlock()
			time.Sleep(100 * time.Microsecond)
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	cpuWork := flag.Int("cpu-work", 200000, "rounds of arithmetic per /cpu request")
	leak := flag.Bool("leak", false, "/leak keeps one goroutine per request")
	busy := flag.Int("busy", 0, "goroutines that compute and allocate for ever")
	tick := flag.Duration("tick", 0, "a goroutine wakes up this often for a little work")
	spinners := flag.Int("spin", 0, "goroutines in a loop without preemption points")
	threadChurn := flag.Duration("churn", 0, "end one OS thread this often")
	countSignals := flag.Bool("sigusr1", false, "print a line for every SIGUSR1")
	flag.Parse()

	if *countSignals {
		usr1 := make(chan os.Signal, 64)
		signal.Notify(usr1, syscall.SIGUSR1)
		go func() {
			for n := 1; ; n++ {
				<-usr1
				fmt.Printf("sigusr1 %d\n", n)
			}
		}()
	}

	if *threadChurn > 0 {
		go churnThreads(*threadChurn)
	}

	for i := 0; i < *spinners; i++ {
		go loopForever()
	}

	if *tick > 0 {
		go func() {
			for range time.Tick(*tick) {
				sinkMu.Lock()
				sink += spin(100)
				sinkMu.Unlock()
			}
		}()
	}

	for i := 0; i < *busy; i++ {
		go churn()
	}
	never := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/procs", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", runtime.GOMAXPROCS(0))
	})
	mux.HandleFunc("/goroutines", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", runtime.NumGoroutine())
	})
	var served int64
	mux.HandleFunc("/cpu", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%x\n", spin(*cpuWork))
		atomic.AddInt64(&served, 1)
	})
	mux.HandleFunc("/served", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", atomic.LoadInt64(&served))
	})
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		if *leak {
			go func() { <-never }()
		}
		io.WriteString(w, "ok\n")
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("fg-gosvc: %v", err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		os.Exit(0)
	}()
	log.Printf("fg-gosvc: listening on %s pid %d", ln.Addr(), os.Getpid())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
