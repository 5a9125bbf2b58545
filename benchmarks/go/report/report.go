// Package report: the reporting helpers of the socket peers, the same as in
// every program of /work/shared/peers/go (one JSON line, VERIFY FAILED).
package report

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// statusKB returns a field of /proc/self/status (e.g. "VmHWM", "VmRSS") in kB.
func StatusKB(field string) int64 {
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

func Ms(d time.Duration) float64 { return math.Round(float64(d.Nanoseconds())/1e4) / 100 }

// report prints the single JSON result line; opTime/n is ns_per_op.
// VmHWM is read here, i.e. at the end of the run.
func Report(workload string, n int, opTime time.Duration, extra ...any) {
	ns := float64(opTime.Nanoseconds()) / float64(n)
	kv := append([]any{"workload", workload, "impl", "go", "n", n,
		"ns_per_op", math.Round(ns*100) / 100, "ops_per_s", math.Round(1e9 / ns),
		"peak_rss_kb", StatusKB("VmHWM"), "gomaxprocs", runtime.GOMAXPROCS(0),
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

func Fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "VERIFY FAILED: "+format+"\n", args...)
	os.Exit(1)
}

// Serve accepts on ln until it is closed, handing each connection to handle
// on the accepting goroutine (handle starts its own goroutine if it wants one).
func Serve(ln net.Listener, handle func(net.Conn)) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if strings.Contains(err.Error(), "use of closed") {
				return
			}
			Fail("accept: %v", err)
		}
		handle(conn)
	}
}

// RaiseNofile lifts RLIMIT_NOFILE as far as it goes (to 65536 where root may
// raise it: both ends of every connection live in one process) and returns it.
func RaiseNofile() int {
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	rl.Cur = rl.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	if rl.Max < 65536 {
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 65536, Max: 65536})
	}
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return int(rl.Cur)
}
