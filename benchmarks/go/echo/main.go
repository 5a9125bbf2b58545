// echo: the Go peer of benchmarks/c/echo.c (same protocol, same timed region).
// C client connections to an echo server in the same process, on loopback;
// each does R round trips of a SIZE-byte message. Server: a goroutine per
// connection. n = C*R. Timed from the moment every connection is open and idle
// until the last client finished. Also: p50/p99 round trip (us) and RSS per
// open idle connection (VmRSS delta over opening C connections / C).
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sort"
	"sync"
	"time"

	"weftnet/report"
)

func main() {
	c := flag.Int("c", 100, "connections")
	r := flag.Int("r", 1000, "round trips per connection")
	size := flag.Int("size", 64, "message bytes")
	flag.Parse()
	limit := report.RaiseNofile()
	// Both ends live here: clamp C to what the fd limit allows (as the C port).
	if fit := (limit - 32) / 2; *c > fit {
		fmt.Fprintf(os.Stderr, "echo: RLIMIT_NOFILE %d: %d connections instead of %d\n", limit, fit, *c)
		*c = fit
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		report.Fail("listen: %v", err)
	}
	go report.Serve(ln, func(conn net.Conn) {
		go func(conn net.Conn) {
			buf := make([]byte, *size)
			for {
				if _, err := io.ReadFull(conn, buf); err != nil {
					break
				}
				if _, err := conn.Write(buf); err != nil {
					break
				}
			}
			conn.Close()
		}(conn)
	})
	addr := ln.Addr().String()
	lat := make([]int64, *c**r)
	var opened, finished sync.WaitGroup
	start := make(chan struct{})
	opened.Add(*c)
	finished.Add(*c)
	rss0 := report.StatusKB("VmRSS")
	for id := 0; id < *c; id++ {
		go func(id int) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				report.Fail("dial: %v", err)
			}
			out := make([]byte, *size)
			in := make([]byte, *size)
			for i := range out {
				out[i] = byte('a' + id%26)
			}
			conn.Write(out)
			if _, err := io.ReadFull(conn, in); err != nil {
				report.Fail("warm-up echo: %v", err)
			}
			opened.Done()
			<-start
			mine := lat[id**r : (id+1)**r]
			for i := 0; i < *r; i++ {
				t := time.Now()
				out[0] = byte(i)
				if _, err := conn.Write(out); err != nil {
					report.Fail("write: %v", err)
				}
				if _, err := io.ReadFull(conn, in); err != nil {
					report.Fail("read: %v", err)
				}
				if in[0] != byte(i) || in[*size-1] != out[*size-1] {
					report.Fail("echo %d: wrong bytes", i)
				}
				mine[i] = int64(time.Since(t))
			}
			conn.Close()
			finished.Done()
		}(id)
	}
	opened.Wait()
	time.Sleep(20 * time.Millisecond)
	rss1 := report.StatusKB("VmRSS")
	t0 := time.Now()
	close(start)
	finished.Wait()
	el := time.Since(t0)
	ln.Close()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	n := *c * *r
	report.Report("echo", n, el, "conns", *c, "round_trips", *r,
		"p50_us", math.Round(float64(lat[n/2])/10)/100,
		"p99_us", math.Round(float64(lat[n*99/100])/10)/100,
		"rss_per_conn_b", math.Round(float64(rss1-rss0)*1024/float64(*c)),
		"total_ms", report.Ms(el))
}
