#!/usr/bin/env bash
# MirrorMaker 2 for a city (Apache Kafka 3.9's dedicated driver, org.apache.kafka.connect.mirror.MirrorMaker,
# on the JVM from the Maven Central jars that deploy/kafka/mirror/pom.xml resolves into deploy/kafka/mirror-lib).
# It copies each county's petition.events and petition.routing into the city's Kafka as <alias>.petition.events
# and <alias>.petition.routing, with heartbeats and checkpoints; the configuration is generated from the city
# file at every start (python -m xinfang.city mm2-config), so a county added to the file is mirrored after a restart.
#
#   deploy/mirror.sh fetch                     resolve the jars (runs Maven if mirror-lib/ is missing)
#   deploy/mirror.sh start   [--city FILE] [--dir DIR] [--set key=value ...] [--no-wait]
#   deploy/mirror.sh stop    [--city FILE] [--dir DIR]
#   deploy/mirror.sh restart [--city FILE] [--dir DIR] [--set key=value ...]
#   deploy/mirror.sh status  [--city FILE] [--dir DIR]   exit 0 when every county flow runs
#
# --city: the city file (default deploy/cities/demo-city.yaml). --set: appended to the generated properties
# (the tests' short intervals). start waits until every county's connectors report RUNNING in the city
# (MIRROR_START_TIMEOUT seconds, default 180), unless --no-wait.
# Folder (--dir, default var/mirror/<city file name>): mm2.properties (generated), mirror.log, console.out, mirror.pid.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="$ROOT/deploy/kafka/mirror"
LIB="$ROOT/deploy/kafka/mirror-lib"
PYTHON="${PYTHON:-python3}"
START_TIMEOUT="${MIRROR_START_TIMEOUT:-180}"
STOP_TIMEOUT="${MIRROR_STOP_TIMEOUT:-30}"
export PYTHONPATH="$ROOT/shared${PYTHONPATH:+:$PYTHONPATH}"

log() { echo "mirror.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

have_jars() { compgen -G "$LIB/connect-mirror-3.9.*.jar" >/dev/null && compgen -G "$LIB/slf4j-reload4j-*.jar" >/dev/null; }

fetch() {
  if have_jars; then log "jars present in deploy/kafka/mirror-lib ($(ls "$LIB" | wc -l) files)"; return 0; fi
  command -v mvn >/dev/null || die "mvn not found (run deploy/dev setup, or apt-get install maven)"
  log "resolving MirrorMaker 2 (Kafka 3.9) from Maven Central into deploy/kafka/mirror-lib (one-time)"
  mvn -q -B -f "$HOME_DIR/pom.xml" package
  have_jars || die "Maven finished but deploy/kafka/mirror-lib has no connect-mirror 3.9 jar"
}

CITY="$ROOT/deploy/cities/demo-city.yaml"
DIR=""
WAIT=1
SETS=()
parse_opts() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --city) CITY="$2"; shift 2 ;;
      --dir) DIR="$2"; shift 2 ;;
      --set) SETS+=(--set "$2"); shift 2 ;;
      --no-wait) WAIT=0; shift ;;
      *) die "unknown option: $1" ;;
    esac
  done
  [[ -f "$CITY" ]] || die "no city file $CITY"
  CITY="$(cd "$(dirname "$CITY")" && pwd)/$(basename "$CITY")"
  if [[ -z "$DIR" ]]; then DIR="$ROOT/var/mirror/$(basename "$CITY" .yaml)"; fi
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
}

# Is the process in the pid file alive and really MirrorMaker? (guards against pid reuse)
running_pid() {
  local pid
  [[ -f "$DIR/mirror.pid" ]] || return 1
  pid="$(cat "$DIR/mirror.pid")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'connect\.mirror\.MirrorMaker' || return 1
  echo "$pid"
}

start() {
  parse_opts "$@"
  if running_pid >/dev/null; then log "already running (pid $(running_pid)), $DIR"; return 0; fi
  # The configuration is generated at every start: the city file is the one place a county is added. A refused
  # file stops here, before anything is fetched or started.
  "$PYTHON" -m xinfang.city mm2-config "$CITY" --out "$DIR/mm2.properties" ${SETS[@]+"${SETS[@]}"} ||
    die "the city file $CITY is refused (above)"
  have_jars || fetch
  command -v java >/dev/null || die "java not found (Java 17 is required)"
  local since t0=$SECONDS
  since="$("$PYTHON" -c 'import time; print(int(time.time() * 1000))')"
  # setsid: MirrorMaker outlives the shell that started it; the inner bash writes its pid, then execs java.
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$DIR/mirror.pid" \
    java ${MIRROR_HEAP_OPTS:--Xms128m -Xmx384m} -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$HOME_DIR/log4j.properties" -Dmirror.logs.dir="$DIR" \
      -cp "$LIB/*" org.apache.kafka.connect.mirror.MirrorMaker "$DIR/mm2.properties" \
      >"$DIR/console.out" 2>&1 </dev/null &
  log "started MirrorMaker 2 for $(basename "$CITY"): log $DIR/mirror.log"
  ((WAIT)) || return 0
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$PYTHON" -m xinfang.city status "$CITY" --since "$since" >"$DIR/status.out" 2>&1; do
    running_pid >/dev/null || die "MirrorMaker exited during start-up; see $DIR/mirror.log and console.out"
    if ((SECONDS >= deadline)); then
      cat "$DIR/status.out" >&2
      die "not every county flow runs after ${START_TIMEOUT}s; see $DIR/mirror.log"
    fi
    sleep 1
  done
  log "every county flow runs after $((SECONDS - t0))s (pid $(running_pid))"
}

# SIGTERM runs MirrorMaker's shutdown hook: tasks stop, their last transactions and offsets are committed.
stop() {
  parse_opts "$@"
  local pid
  pid="$(running_pid)" || { rm -f "$DIR/mirror.pid"; log "not running ($DIR)"; return 0; }
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "warning: pid $pid did not stop within ${STOP_TIMEOUT}s; killing it (the next start resumes from the committed offsets)"
    kill -KILL "$pid" || true
  fi
  rm -f "$DIR/mirror.pid"
  log "stopped (pid $pid)"
}

status() {
  parse_opts "$@"
  local pid
  if pid="$(running_pid)"; then echo "mirror: running (pid $pid), $DIR"; else echo "mirror: not running ($DIR)"; return 1; fi
  "$PYTHON" -m xinfang.city status "$CITY"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  fetch) fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  restart) (stop "$@"); start "$@" ;;
  status) status "$@" ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
