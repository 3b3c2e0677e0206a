#!/usr/bin/env bash
# A local OrleansOps cluster: N server processes on loopback sharing one PostgreSQL database.
#
#   deploy/local-cluster.sh up --silos 3 --postgres "Host=127.0.0.1;Username=postgres;Database=orleansops"
#   deploy/local-cluster.sh status
#   deploy/local-cluster.sh down
#
# `up` applies the schema once (OrleansOps.Server migrate), starts the silos with distinct HTTP, silo and gateway
# ports, prints one line per silo (name, process id, HTTP URL, ports) and returns once every /healthz answers.
# `down` stops them gracefully (SIGTERM, so Orleans hands activations over), then forcefully after --grace seconds.
# The connection string and admin token reach the servers through their environment, never their command line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
command=${1:-}
[ $# -gt 0 ] && shift

silos=3
postgres=${ORLEANSOPS_POSTGRES:-}
http_base=5081
silo_base=11111
gateway_base=30000
state_dir=${ORLEANSOPS_CLUSTER_DIR:-$repo/.local-cluster}
server_dll=${ORLEANSOPS_SERVER_DLL:-}
configuration=Release
admin_token=${ORLEANSOPS_ADMIN_TOKEN:-}
timeout=120
grace=30

usage() {
  cat <<EOF
usage: deploy/local-cluster.sh up --silos N --postgres "<Npgsql connection string>" [options]
       deploy/local-cluster.sh status [--state-dir DIR]
       deploy/local-cluster.sh down [--state-dir DIR] [--grace SECONDS]

options for up:
  --silos N              number of silos (default 3)
  --postgres CONN        PostgreSQL connection string (or ORLEANSOPS_POSTGRES)
  --http-port P          HTTP port of the first silo; silo i listens on P+i-1 (default 5081)
  --silo-port P          Orleans silo-to-silo port of the first silo (default 11111)
  --gateway-port P       Orleans gateway port of the first silo, for opsctl (default 30000)
  --admin-token T        API token shared by every silo (or ORLEANSOPS_ADMIN_TOKEN; generated when absent)
  --server-dll PATH      a built OrleansOps.Server.dll (or ORLEANSOPS_SERVER_DLL; default: build the tree, Release)
  --configuration C      build configuration to use or build (default Release)
  --state-dir DIR        where process ids and logs go (default .local-cluster; or ORLEANSOPS_CLUSTER_DIR)
  --timeout SECONDS      how long to wait for every silo to be healthy (default 120)
EOF
}

fail() { echo "local-cluster: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --silos) silos=${2:?}; shift 2 ;;
    --postgres) postgres=${2:?}; shift 2 ;;
    --http-port) http_base=${2:?}; shift 2 ;;
    --silo-port) silo_base=${2:?}; shift 2 ;;
    --gateway-port) gateway_base=${2:?}; shift 2 ;;
    --admin-token) admin_token=${2:?}; shift 2 ;;
    --server-dll) server_dll=${2:?}; shift 2 ;;
    --configuration) configuration=${2:?}; shift 2 ;;
    --state-dir) state_dir=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --grace) grace=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; fail "unknown option '$1'" ;;
  esac
done

running_pids() {
  local file pid
  for file in "$state_dir"/silo-*.pid; do
    [ -e "$file" ] || continue
    pid=$(cat "$file")
    # A pid file can outlive its process (a reboot): only a live OrleansOps server counts.
    kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'OrleansOps.Server' && echo "$pid"
  done
  return 0
}

find_server() {
  if [ -n "$server_dll" ]; then
    [ -f "$server_dll" ] || fail "--server-dll $server_dll does not exist"
    return
  fi
  server_dll="$repo/src/OrleansOps.Server/bin/$configuration/net10.0/OrleansOps.Server.dll"
  # Always (incrementally) built, so the silos never run code older than the tree and its schema.
  echo "building OrleansOps.Server ($configuration) ..."
  dotnet build "$repo/src/OrleansOps.Server" -c "$configuration" -nologo -v quiet >"$state_dir/build.log" 2>&1 \
    || { tail -n 30 "$state_dir/build.log" >&2; fail "build failed (log: $state_dir/build.log)"; }
}

wait_healthy() {
  local i=$1 pid=$2 url=$3 deadline=$4
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "local-cluster: silo-$i (pid $pid) exited during start; last lines of $state_dir/silo-$i.log:" >&2
      tail -n 40 "$state_dir/silo-$i.log" >&2
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 5 "$url/healthz" 2>/dev/null; then return 0; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "local-cluster: silo-$i (pid $pid) not healthy after ${timeout}s; last lines of $state_dir/silo-$i.log:" >&2
      tail -n 40 "$state_dir/silo-$i.log" >&2
      return 1
    fi
    sleep 0.5
  done
}

stop_all() {
  local pids pid all waited=0
  pids=$(running_pids)
  all=$(echo $pids)
  [ -n "$pids" ] && kill -TERM $pids 2>/dev/null || true
  while [ -n "$(running_pids)" ] && [ "$waited" -lt $((grace * 2)) ]; do sleep 0.5; waited=$((waited + 1)); done
  pids=$(running_pids)
  if [ -n "$pids" ]; then
    echo "local-cluster: still running after ${grace}s, killing: $pids" >&2
    kill -KILL $pids 2>/dev/null || true
  fi
  for file in "$state_dir"/silo-*.pid; do
    [ -e "$file" ] || continue
    pid=$(cat "$file")
    if [[ " $all " == *" $pid "* ]]; then echo "stopped $(basename "$file" .pid) (pid $pid)"
    else echo "$(basename "$file" .pid) (pid $pid) was not running"; fi
    rm -f "$file"
  done
}

case "$command" in
  up)
    [ -n "$postgres" ] || { usage >&2; fail "--postgres is required"; }
    [[ "$silos" =~ ^[1-9][0-9]*$ ]] || fail "--silos must be a positive number"
    command -v dotnet >/dev/null || fail "dotnet is not on PATH"
    command -v curl >/dev/null || fail "curl is needed to check health (apt-get install curl)"
    mkdir -p "$state_dir"
    [ -z "$(running_pids)" ] || fail "a cluster is already running from $state_dir (pids: $(running_pids | tr '\n' ' ')); run 'deploy/local-cluster.sh down' first"
    find_server
    if [ -z "$admin_token" ]; then
      admin_token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
      echo "admin token: $admin_token   (generated; pass --admin-token to choose one)"
    fi

    echo "applying the schema ..."
    OrleansOps__Storage=Postgres OrleansOps__PostgresConnection="$postgres" \
      dotnet "$server_dll" migrate >"$state_dir/migrate.log" 2>&1 \
      || { cat "$state_dir/migrate.log" >&2; fail "schema migration failed"; }
    grep -E "nothing to do|upgraded" "$state_dir/migrate.log" | sed 's/^migrate: /  /' || true

    deadline=$(( $(date +%s) + timeout ))
    for i in $(seq 1 "$silos"); do
      http=$((http_base + i - 1)); silo=$((silo_base + i - 1)); gateway=$((gateway_base + i - 1))
      OrleansOps__Storage=Postgres \
      OrleansOps__PostgresConnection="$postgres" \
      OrleansOps__AdminToken="$admin_token" \
      OrleansOps__SiloPort=$silo \
      OrleansOps__GatewayPort=$gateway \
      OrleansOps__AdvertisedAddress=127.0.0.1 \
        setsid nohup dotnet "$server_dll" --urls "http://127.0.0.1:$http" >"$state_dir/silo-$i.log" 2>&1 </dev/null &
      echo $! >"$state_dir/silo-$i.pid"
      echo "$i $! http://127.0.0.1:$http $silo $gateway" >"$state_dir/silo-$i.info"
    done

    for i in $(seq 1 "$silos"); do
      read -r _ pid url silo gateway <"$state_dir/silo-$i.info"
      if ! wait_healthy "$i" "$pid" "$url" "$deadline"; then
        stop_all >/dev/null
        fail "the cluster did not come up"
      fi
    done
    for i in $(seq 1 "$silos"); do
      read -r _ pid url silo gateway <"$state_dir/silo-$i.info"
      echo "silo-$i pid=$pid url=$url silo-port=$silo gateway-port=$gateway"
    done
    echo "all $silos silos healthy; logs in $state_dir; stop with: deploy/local-cluster.sh down${state_dir:+ --state-dir $state_dir}"
    ;;
  status)
    found=0
    for file in "$state_dir"/silo-*.info; do
      [ -e "$file" ] || continue
      read -r i pid url silo gateway <"$file"
      [ -e "$state_dir/silo-$i.pid" ] || continue
      found=1
      if kill -0 "$pid" 2>/dev/null; then state=running; else state=exited; fi
      echo "silo-$i pid=$pid url=$url silo-port=$silo gateway-port=$gateway $state"
    done
    [ "$found" -eq 1 ] || echo "no local cluster in $state_dir"
    ;;
  down)
    stop_all
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
