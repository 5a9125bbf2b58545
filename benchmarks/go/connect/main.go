// connect: the Go peer of benchmarks/c/connect.c. N connect + accept + close
// on loopback, K clients at a time; the server accepts and closes at once, a
// client dials, reads end of stream and closes. n = N, all of it timed.
package main

import (
	"flag"
	"net"
	"sync"
	"time"

	"weftnet/report"
)

func main() {
	n := flag.Int("n", 10000, "connections")
	k := flag.Int("c", 16, "clients at a time")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		report.Fail("listen: %v", err)
	}
	go report.Serve(ln, func(conn net.Conn) { conn.Close() })
	addr := ln.Addr().String()
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := 0; c < *k; c++ {
		count := *n / *k
		if c < *n%*k {
			count++
		}
		wg.Add(1)
		go func(count int) {
			defer wg.Done()
			b := make([]byte, 1)
			for i := 0; i < count; i++ {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					report.Fail("dial: %v", err)
				}
				if m, err := conn.Read(b); m != 0 || err == nil {
					report.Fail("expected end of stream")
				}
				conn.Close()
			}
		}(count)
	}
	wg.Wait()
	el := time.Since(t0)
	ln.Close()
	report.Report("connect", *n, el, "clients", *k, "total_ms", report.Ms(el))
}
