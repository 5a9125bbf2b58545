#!/usr/bin/env bash
# make demo-distributed: a producer enqueues JOBS jobs (100,000; --test: 5,000),
# three worker processes with 500 tasks each process them, one is killed with
# SIGKILL in the middle; the run ends when every job's result is present exactly
# once, and prints jobs/s, redeliveries and dead-lettered jobs.
set -uo pipefail
cd "$(dirname "$0")/.."
source redis/tests/lib.sh
JOBS=100000
[ "${1:-}" = --test ] && JOBS=5000
redis_start || exit 1
S=demo
echo "redis-server on 127.0.0.1:$PORT; $JOBS jobs, 3 workers x 500 tasks"
t0=$(date +%s.%N)
for i in 1 2 3; do
  $B work worker-$i --port "$PORT" --stream $S --tasks 500 --timeout-ms 2000 > "$REDIS_DIR/w$i.log" & PIDS+=($!); eval w$i=$!
done
$B produce $JOBS --port "$PORT" --stream $S --maxlen 20000 --kind t || exit 1
sleep 0.3
kill -9 $w2; echo "worker-2 killed with SIGKILL"
$B collect $JOBS --port "$PORT" --stream $S --wait-s 120; rc=$?
t1=$(date +%s.%N)
kill -TERM $w1 $w3; wait $w1 $w3 2>/dev/null
cat "$REDIS_DIR/w1.log" "$REDIS_DIR/w3.log" | grep rc=
dead=$(redis-cli -p "$PORT" xlen $S:dead)
redeliv=$(cat "$REDIS_DIR/w1.log" "$REDIS_DIR/w3.log" | grep -o 'claimed=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)
python3 -c "print(f'{$JOBS} jobs in {$t1-$t0:.2f} s: {$JOBS/($t1-$t0):.0f} jobs/s end to end; redeliveries (claimed from the killed worker) $redeliv; dead-lettered $dead')"
exit $rc
