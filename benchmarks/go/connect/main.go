// connect: the Go peer of benchmarks/c/connect.c. N connect + accept + close
// on loopback, K clients at a time; the server accepts and closes at once, a
// client dials, reads end of stream and closes. n = N, all of it timed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	n := flag.Int("n", 10000, "connections")
	k := flag.Int("c", 16, "clients at a time")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen: %v", err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				if strings.Contains(err.Error(), "use of closed") {
					return
				}
				fail("accept: %v", err)
			}
			conn.Close()
		}
	}()
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
					fail("dial: %v", err)
				}
				if m, err := conn.Read(b); m != 0 || err == nil {
					fail("expected end of stream")
				}
				conn.Close()
			}
		}(count)
	}
	wg.Wait()
	el := time.Since(t0)
	ln.Close()
	report("connect", *n, el, "clients", *k, "total_ms", ms(el))
}

// ---- reporting helpers (identical in every peer program) ----

// statusKB returns a field of /proc/self/status (e.g. "VmHWM", "VmRSS") in kB.
func statusKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			if f := strings.Fields(line[len(field)+1:]); len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return -1
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Nanoseconds())/1e4) / 100 }

// report prints the single JSON result line; opTime/n is ns_per_op.
// VmHWM is read here, i.e. at the end of the run.
func report(workload string, n int, opTime time.Duration, extra ...any) {
	ns := float64(opTime.Nanoseconds()) / float64(n)
	kv := append([]any{"workload", workload, "impl", "go", "n", n,
		"ns_per_op", math.Round(ns*100) / 100, "ops_per_s", math.Round(1e9 / ns),
		"peak_rss_kb", statusKB("VmHWM"), "gomaxprocs", runtime.GOMAXPROCS(0),
		"version", runtime.Version()}, extra...)
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.Write(k)
		b.WriteString(": ")
		b.Write(v)
	}
	b.WriteByte('}')
	fmt.Println(b.String())
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "VERIFY FAILED: "+format+"\n", args...)
	os.Exit(1)
}
