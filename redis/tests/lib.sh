# Shared by redis/tests/run.sh and redis/demo.sh: a redis-server on a free
# loopback port in a temporary directory, stopped on exit (also on failure).
B=.build/redis/redis_jobs
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REDIS_DIR=$(mktemp -d)
PORT=$(free_port)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -f "$REDIS_DIR/pid" ] && kill -9 "$(cat "$REDIS_DIR/pid")" 2>/dev/null
  rm -rf "$REDIS_DIR"
}
trap cleanup EXIT
redis_start() { # AOF on, fsync always: an acknowledged XADD survives kill -9 of Redis
  redis-server --port "$PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --save "" --appendonly yes \
    --appendfsync always --daemonize yes --pidfile "$REDIS_DIR/pid" --logfile "$REDIS_DIR/log" >/dev/null
  for _ in $(seq 100); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
  echo "redis-server did not start"; cat "$REDIS_DIR/log"; return 1
}
redis_kill() { kill -9 "$(cat "$REDIS_DIR/pid")"; rm -f "$REDIS_DIR/pid"; }
