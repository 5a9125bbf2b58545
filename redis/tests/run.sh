#!/usr/bin/env bash
# libweft_redis against a real redis-server: the C tests (bad input, poison,
# timeout, ...), a worker process killed with SIGKILL, Redis killed and
# restarted mid-run (AOF), and the distributed demo at a small size.
set -uo pipefail
cd "$(dirname "$0")/../.."
source redis/tests/lib.sh
export SWIFT_BACKTRACE=enable=no
passed=0 failed=0
ok() { if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "ok   $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi; }
redis_start || exit 1

timeout 60 .build/redis/test_redis "$PORT"; ok $? "C tests (test_redis)"

# kill -9 of a worker: nothing lost (the survivor claims its pending jobs)
redis-cli -p "$PORT" flushall >/dev/null
timeout 30 $B produce 3000 --port "$PORT" --stream k9 --kind s20 >/dev/null
$B work victim --port "$PORT" --stream k9 --tasks 200 --timeout-ms 1000 & victim=$!; PIDS+=($victim)
sleep 0.25
kill -9 $victim
$B work survivor --port "$PORT" --stream k9 --tasks 200 --timeout-ms 1000 > "$REDIS_DIR/surv.log" & surv=$!; PIDS+=($surv)
timeout 40 $B collect 3000 --port "$PORT" --stream k9 --wait-s 30; rc=$?
kill -TERM $surv; wait $surv; cat "$REDIS_DIR/surv.log" | tail -1
grep -q "claimed=[1-9]" "$REDIS_DIR/surv.log"; c=$?
ok $((rc | c)) "worker killed with SIGKILL: every job's result present once, the killed worker's jobs claimed"

# Redis killed and restarted mid-run with AOF: workers reconnect, nothing lost
redis-cli -p "$PORT" flushall >/dev/null
timeout 30 $B produce 3000 --port "$PORT" --stream rs --kind s5 >/dev/null
$B work w1 --port "$PORT" --stream rs --tasks 100 --timeout-ms 1000 > "$REDIS_DIR/w1.log" & w1=$!; PIDS+=($w1)
sleep 0.2
redis_kill
sleep 0.5
redis_start
timeout 40 $B collect 3000 --port "$PORT" --stream rs --wait-s 30; rc=$?
kill -TERM $w1; wait $w1; tail -1 "$REDIS_DIR/w1.log"
grep -q "reconnects=[1-9]" "$REDIS_DIR/w1.log"; c=$?
ok $((rc | c)) "Redis restarted mid-run (AOF): worker reconnected, every result present once"

# the distributed demo, small
bash redis/demo.sh --test; ok $? "demo-distributed --test"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
