#!/usr/bin/env bash
# Real Apache Kafka 3.9 (KRaft, no ZooKeeper, no Docker) on this machine, from the Maven
# Central jars that deploy/kafka/pom.xml resolves into deploy/kafka/lib.
#
#   deploy/kafka.sh fetch                                 resolve the jars (runs Maven if lib/ is missing)
#   deploy/kafka.sh start  [--brokers 1|3] [--port P] [--node N] [--set key=value ...]
#   deploy/kafka.sh stop   [--brokers 1|3] [--node N]     no --brokers: stop every node that runs
#   deploy/kafka.sh status
#   deploy/kafka.sh bootstrap [--brokers 1|3] [--port P]  print the bootstrap servers string
#   --name NAME --port P (with start, stop): a single node of its own name, folder and port (a city's Kafka, a
#                        second county's on one machine: deploy/dev city); stop with no option stops these too
#
# Modes (they use different ports and folders, so both may run at once):
#   single   --brokers 1: node 1, broker port P (default $XINFANG_KAFKA_PORT or 9092),
#            controller port P+1.
#   cluster  --brokers 3: nodes 1,2,3, broker ports P,P+1,P+2 (default P=9192),
#            controller ports P+100.. (9292..9294); all three are KRaft voters.
# --node N starts or stops one node of the cluster only (fault tests: kill a broker, bring it back).
#
# Every node is a combined broker+controller listening on 127.0.0.1 only.
# Data:  var/kafka/<mode>/node<N>/data   (storage formatted once; cluster id in var/kafka/<mode>/cluster-id)
# Logs:  var/logs/kafka/<mode>-node<N>/server.log (+ state-change.log; stdout/stderr in console.out)
# Pids:  var/run/kafka-<mode>-node<N>.pid
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_HOME="$ROOT/deploy/kafka"
LIB="$KAFKA_HOME/lib"
VAR="$ROOT/var"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"   # seconds until a started broker must answer
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-60}"      # seconds for a clean shutdown before SIGKILL
PYTHON="${PYTHON:-python3}"

log() { echo "kafka.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------------------------
have_jars() { compgen -G "$LIB/kafka_2.13-3.9.*.jar" >/dev/null && compgen -G "$LIB/slf4j-reload4j-*.jar" >/dev/null; }

fetch() {
  if have_jars; then
    log "jars present in deploy/kafka/lib ($(ls "$LIB" | wc -l) files)"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (run deploy/dev setup, or apt-get install maven)"
  log "resolving Kafka 3.9 from Maven Central into deploy/kafka/lib (one-time, ~1 min)"
  # -B: no progress bars in CI logs; -q: only errors. The dependency plugin copies the runtime
  # closure of kafka_2.13 + tools + storage + slf4j-reload4j into lib/.
  mvn -q -B -f "$KAFKA_HOME/pom.xml" package
  have_jars || die "Maven finished but deploy/kafka/lib has no kafka_2.13 3.9 jar"
}

# ---------------------------------------------------------------------------------------------
# layout of one mode
# ---------------------------------------------------------------------------------------------
BROKERS=1
PORT=""
NODE=""
NAME=""
EXTRA_PROPS=()

parse_opts() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --brokers) BROKERS="$2"; shift 2 ;;
      --port) PORT="$2"; shift 2 ;;
      --node) NODE="$2"; shift 2 ;;
      --name) NAME="$2"; shift 2 ;;
      --set) EXTRA_PROPS+=("$2"); shift 2 ;;
      *) die "unknown option: $1" ;;
    esac
  done
  [[ "$BROKERS" == 1 || "$BROKERS" == 3 ]] || die "--brokers must be 1 or 3"
  if [[ -n "$NAME" ]]; then
    [[ "$NAME" =~ ^[a-z][a-z0-9-]{0,30}$ && "$NAME" != single && "$NAME" != cluster ]] ||
      die "--name must be lower-case letters, digits or -, and not single or cluster"
    [[ "$BROKERS" == 1 && -n "$PORT" ]] || die "--name is a single node and needs its own --port"
  fi
  if [[ -z "$PORT" ]]; then
    if [[ "$BROKERS" == 1 ]]; then PORT="${XINFANG_KAFKA_PORT:-9092}"; else PORT=9192; fi
  fi
  [[ -z "$NODE" || ( "$NODE" -ge 1 && "$NODE" -le "$BROKERS" ) ]] || die "--node must be between 1 and $BROKERS"
}

mode()            { if [[ -n "$NAME" ]]; then echo "$NAME"; elif [[ "$BROKERS" == 1 ]]; then echo single; else echo cluster; fi; }
mode_dir()        { echo "$VAR/kafka/$(mode)"; }
node_dir()        { echo "$(mode_dir)/node$1"; }
pid_file()        { echo "$VAR/run/kafka-$(mode)-node$1.pid"; }
log_dir()         { echo "$VAR/logs/kafka/$(mode)-node$1"; }
broker_port()     { echo $((PORT + $1 - 1)); }
# Single node: controller right above the broker port. Cluster: a block 100 above, so the
# broker ports stay contiguous (9192-9194) and the controllers too (9292-9294).
controller_port() { if [[ "$BROKERS" == 1 ]]; then echo $((PORT + 1)); else echo $((PORT + 100 + $1 - 1)); fi; }
nodes()           { if [[ -n "$NODE" ]]; then echo "$NODE"; else seq 1 "$BROKERS"; fi; }

bootstrap() {
  local out="" n
  for n in $(seq 1 "$BROKERS"); do out+="${out:+,}127.0.0.1:$(broker_port "$n")"; done
  echo "$out"
}

voters() {
  local out="" n
  for n in $(seq 1 "$BROKERS"); do out+="${out:+,}$n@127.0.0.1:$(controller_port "$n")"; done
  echo "$out"
}

# Is the process in this pid file alive and really our broker? (guards against pid reuse)
running_pid() {
  local f="$1" pid
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

write_properties() {
  local n="$1" rf isr
  if [[ "$BROKERS" == 1 ]]; then rf=1; isr=1; else rf=3; isr=2; fi
  mkdir -p "$(node_dir "$n")"
  cat >"$(node_dir "$n")/server.properties" <<EOF
# Generated by deploy/kafka.sh at every start; edit the script, not this file.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$(node_dir "$n")/data

# Topics are provisioned explicitly (python -m xinfang.topics); a typo must fail, not create a topic.
auto.create.topics.enable=false
# Tests and dev: a consumer group must not wait 3 s for more members before its first assignment.
group.initial.rebalance.delay.ms=0
# Internal topics sized for the node count; fewer partitions than the default 50 makes the first
# consumer group / transaction start faster on this small machine.
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=12
unclean.leader.election.enable=false

# Two cores: keep the thread pools small.
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
EOF
  local kv
  if [[ ${#EXTRA_PROPS[@]} -gt 0 ]]; then
    echo "# --set overrides" >>"$(node_dir "$n")/server.properties"
    for kv in "${EXTRA_PROPS[@]}"; do echo "$kv" >>"$(node_dir "$n")/server.properties"; done
  fi
}

# The classpath wildcard is expanded by the JVM, not by the shell: keep it quoted.
kjava() { java -cp "$LIB/*" "$@"; }

# KRaft storage must be formatted once, before the first start, with one cluster id shared by
# all nodes of the mode. Never re-format: that would erase the event history.
format_storage() {
  local n="$1" cid_file
  cid_file="$(mode_dir)/cluster-id"
  if [[ -f "$(node_dir "$n")/data/meta.properties" ]]; then return 0; fi
  if [[ ! -s "$cid_file" ]]; then
    mkdir -p "$(mode_dir)"
    kjava kafka.tools.StorageTool random-uuid >"$cid_file.tmp" 2>/dev/null ||
      die "could not generate a cluster id (java kafka.tools.StorageTool random-uuid failed)"
    mv "$cid_file.tmp" "$cid_file"
  fi
  log "formatting KRaft storage of $(mode) node $n (cluster id $(cat "$cid_file"))"
  kjava -Dlog4j.configuration="file:$KAFKA_HOME/log4j.properties" -Dkafka.logs.dir="$(log_dir "$n")" \
    kafka.tools.StorageTool format -t "$(cat "$cid_file")" -c "$(node_dir "$n")/server.properties" --ignore-formatted >/dev/null
}

heap_opts() {
  # The box has memory but only 2 cores: small heaps and the serial collector keep GC threads
  # from competing with the services and the tests.
  if [[ -n "${KAFKA_HEAP_OPTS:-}" ]]; then echo "$KAFKA_HEAP_OPTS"
  elif [[ "$BROKERS" == 1 ]]; then echo "-Xms256m -Xmx512m"
  else echo "-Xms192m -Xmx384m"; fi
}

launch_node() {
  local n="$1" pidf logd
  pidf="$(pid_file "$n")"; logd="$(log_dir "$n")"
  if running_pid "$pidf" >/dev/null; then
    log "$(mode) node $n already running (pid $(cat "$pidf"))"
    return 0
  fi
  mkdir -p "$VAR/run" "$logd"
  write_properties "$n"
  format_storage "$n"
  # setsid: the broker must outlive the shell that started it (Ctrl-C in a terminal, the end of
  # `deploy/dev up`); the inner bash writes its own pid and then execs java, so the pid file
  # names the JVM itself.
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" \
    java $(heap_opts) -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$KAFKA_HOME/log4j.properties" -Dkafka.logs.dir="$logd" \
      -cp "$LIB/*" kafka.Kafka "$(node_dir "$n")/server.properties" \
      >"$logd/console.out" 2>&1 </dev/null &
  log "started $(mode) node $n: broker 127.0.0.1:$(broker_port "$n"), controller 127.0.0.1:$(controller_port "$n"), log $logd/server.log"
}

# A broker answers when a metadata request through its own port lists the expected number of
# brokers (the port opens before the node has joined the quorum and been unfenced).
probe() {
  local servers="$1" expect="$2"
  # stderr kept in a file: shown only if the broker never answers.
  "$PYTHON" - "$servers" "$expect" <<'PY' 2>"$VAR/run/kafka-probe.err"
import sys
from kafka import KafkaAdminClient
servers, expect = sys.argv[1], int(sys.argv[2])
admin = KafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=3000,
                         bootstrap_timeout_ms=3000, client_id="kafka.sh-probe")
try:
    brokers = admin.describe_cluster()["brokers"]
finally:
    admin.close()
if len(brokers) < expect:
    sys.exit(f"{len(brokers)} of {expect} brokers registered")
PY
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT)) n servers
  # When only one node of the cluster is (re)started, ask that node; otherwise ask them all.
  if [[ -n "$NODE" ]]; then servers="127.0.0.1:$(broker_port "$NODE")"; else servers="$(bootstrap)"; fi
  if ! "$PYTHON" -c 'import kafka' 2>/dev/null; then
    log "warning: kafka-python not importable by $PYTHON; checking the TCP ports only"
  fi
  while ((SECONDS < deadline)); do
    for n in $(nodes); do
      running_pid "$(pid_file "$n")" >/dev/null ||
        die "$(mode) node $n exited during start-up; see $(log_dir "$n")/server.log and console.out"
    done
    if "$PYTHON" -c 'import kafka' 2>/dev/null; then
      if [[ -n "$NODE" ]] && probe "$servers" 1; then return 0; fi
      if [[ -z "$NODE" ]] && probe "$servers" "$BROKERS"; then return 0; fi
    else
      local ok=1
      for n in $(nodes); do (exec 3<>"/dev/tcp/127.0.0.1/$(broker_port "$n")") 2>/dev/null || ok=0; done
      ((ok)) && return 0
    fi
    sleep 1
  done
  tail -n 3 "$VAR/run/kafka-probe.err" >&2 2>/dev/null || true
  die "$(mode) Kafka did not answer on $servers within ${START_TIMEOUT}s; see var/logs/kafka/"
}

start() {
  parse_opts "$@"
  have_jars || fetch
  command -v java >/dev/null || die "java not found (Java 17 is required)"
  local n t0=$SECONDS
  for n in $(nodes); do
    # Refuse early and clearly if something else already holds a port we need.
    if ! running_pid "$(pid_file "$n")" >/dev/null; then
      for p in $(broker_port "$n") $(controller_port "$n"); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
          die "port $p is already in use by another process; choose another with --port"
        fi
      done
    fi
  done
  for n in $(nodes); do launch_node "$n"; done
  wait_ready
  if [[ -n "$NODE" ]]; then log "$(mode) node $NODE ready on 127.0.0.1:$(broker_port "$NODE") after $((SECONDS - t0))s"
  else log "$(mode) Kafka ready on $(bootstrap) after $((SECONDS - t0))s"; fi
}

# ---------------------------------------------------------------------------------------------
# stop / status
# ---------------------------------------------------------------------------------------------
# SIGTERM runs Kafka's shutdown hook: controlled shutdown, flush, clean-shutdown marker (so the
# next start skips log recovery). All nodes of a cluster are signalled together, so that their
# controlled shutdowns are approved while the controller quorum still exists.
# A broker's controlled shutdown needs an active controller, i.e. a majority of the three voters.
# When the other nodes have already exited (a stop of the last node, or the race in which one
# node's approval has not been committed before its peers went away), that approval can never
# come and Kafka would wait 5 minutes for it. So once fewer than two nodes of the cluster run,
# the stragglers get QUORUM_GRACE seconds, then SIGKILL; their logs were written, only not
# closed, and the next start recovers them (no acknowledged record is lost: it is in the page
# cache or on disk, and this is not a machine crash).
QUORUM_GRACE="${KAFKA_QUORUM_GRACE:-10}"

cluster_alive() {
  local n count=0
  for n in $(seq 1 "$BROKERS"); do running_pid "$(pid_file "$n")" >/dev/null && count=$((count + 1)); done
  echo "$count"
}

stop_nodes() {
  local pids=() files=() f pid n
  for n in $(nodes); do
    f="$(pid_file "$n")"
    if pid="$(running_pid "$f")"; then pids+=("$pid"); files+=("$f"); kill -TERM "$pid"
    else rm -f "$f"; fi
  done
  [[ ${#pids[@]} -gt 0 ]] || return 0
  log "stopping $(mode) node(s) $(nodes | tr '\n' ' ')(pids ${pids[*]})"
  local deadline=$((SECONDS + STOP_TIMEOUT)) alive rc=0 quorum_lost_at="" reason=""
  while ((SECONDS < deadline)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    if [[ "$BROKERS" == 3 && "$(cluster_alive)" -lt 2 ]]; then
      quorum_lost_at="${quorum_lost_at:-$SECONDS}"
      if ((SECONDS - quorum_lost_at >= QUORUM_GRACE)); then reason=quorum; break; fi
    fi
    sleep 0.5
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      if [[ "$reason" == quorum ]]; then
        log "pid $pid cannot finish its controlled shutdown: no controller quorum left (the other nodes have stopped); killing it, the next start recovers its logs"
      else
        log "warning: pid $pid did not stop within ${STOP_TIMEOUT}s; killing it (next start will recover its logs)"
        rc=1
      fi
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "${files[@]}"
  return $rc
}

stop() {
  local explicit=0
  [[ " $* " == *" --brokers "* || " $* " == *" --name "* ]] && explicit=1
  parse_opts "$@"
  if ((explicit)); then stop_nodes; return; fi
  local rc=0
  BROKERS=1; NODE=""; stop_nodes || rc=1
  BROKERS=3; NODE=""; stop_nodes || rc=1
  BROKERS=1
  for NAME in $(named); do stop_nodes || rc=1; done
  NAME=""
  return $rc
}

# Named single nodes (--name) that have a folder in var/kafka.
named() {
  local d
  for d in "$VAR"/kafka/*/; do
    [[ -d "$d" ]] || continue
    d="$(basename "$d")"
    [[ "$d" == single || "$d" == cluster ]] || echo "$d"
  done
}

status() {
  local any=1 n pid b
  for b in 1 3 $(named); do
    if [[ "$b" == 1 || "$b" == 3 ]]; then BROKERS=$b; NAME=""; else BROKERS=1; NAME="$b"; fi
    PORT=""; NODE=""
    [[ -n "$NAME" ]] || parse_opts
    for n in $(nodes); do
      if pid="$(running_pid "$(pid_file "$n")")"; then
        # Ports come from the generated properties, which reflect the --port of the last start.
        local listeners
        listeners="$(sed -n 's/^listeners=//p' "$(node_dir "$n")/server.properties")"
        echo "kafka $(mode) node $n: running (pid $pid) $listeners"
        any=0
      elif [[ -d "$(node_dir "$n")" ]]; then
        echo "kafka $(mode) node $n: stopped (data in $(node_dir "$n"))"
      fi
    done
  done
  ((any == 0)) || echo "kafka: not running"
  return $any
}

cmd="${1:-}"; shift || true
case "$cmd" in
  fetch) fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  status) status ;;
  bootstrap) parse_opts "$@"; bootstrap ;;
  *) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
