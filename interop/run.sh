#!/usr/bin/env bash
# kafkatls interop suite: kafkatls output against REAL Apache Kafka, ZooKeeper
# and kcat on 127.0.0.1. See docs/interop.md. Run with `make interop`.
#
# Each scenario prints exactly one line on stdout:
#   PASS <scenario>            | FAIL <scenario>: <reason>   | SKIP <scenario>: <why>
# Progress and, on failure, log tails go to stderr. Exit status is non-zero
# if any scenario failed.
#
# Environment:
#   KAFKATLS                  kafkatls binary to test (default: go build of this checkout)
#   KAFKATLS_INTEROP_CACHE    jar cache (default ~/.cache/kafkatls-interop)
#   KAFKATLS_INTEROP_KEEP=1   keep the work directory (default: kept only on failure)
#   KAFKATLS_INTEROP_WAIT     seconds to wait for a broker/ZooKeeper to start (default 90)
#   KAFKATLS_INTEROP_ONLY     comma list of scenario groups or scenario ids (default all):
#                             kraft, zookeeper, or the group/id of a scenario file
#                             in interop/scenarios/ (e.g. KAFKATLS_INTEROP_ONLY=connect)
#   JAVA                      java binary (default java; JDK >= 17)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=${KAFKATLS_INTEROP_CACHE:-$HOME/.cache/kafkatls-interop}
WAIT=${KAFKATLS_INTEROP_WAIT:-90}
ONLY=${KAFKATLS_INTEROP_ONLY:-all}
JAVA=${JAVA:-java}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kafkatls-interop.XXXXXX")
T0=$SECONDS

mkdir -p "$WORK/pids" "$WORK/out" "$WORK/scen" "$WORK/bin"

log() { printf '%s [%3ds] %s\n' "==" "$((SECONDS - T0))" "$*" >&2; }

# ---------------------------------------------------------------- processes
# Every background process writes its pid to $WORK/pids/NAME; cleanup stops
# exactly those pids (never by name).
stop_proc() { # NAME [grace seconds]
  local f="$WORK/pids/$1" grace=${2:-30} pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 5; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$1 (pid $pid) ignored SIGTERM for ${grace}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

FAILED=0
cleanup() {
  local rc=$? f
  trap - EXIT INT TERM
  for f in "$WORK"/pids/*; do
    [ -e "$f" ] || continue
    stop_proc "$(basename "$f")" 15
  done
  if [ "${KAFKATLS_INTEROP_KEEP:-}" = 1 ] || [ "$FAILED" != 0 ] || [ "$rc" != 0 ]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  log "total $((SECONDS - T0))s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_proc() { # NAME LOGFILE cmd...
  local name=$1 logf=$2
  shift 2
  "$@" >"$logf" 2>&1 </dev/null &
  echo $! >"$WORK/pids/$name"
  [ -n "${SCEN_LOGS:-}" ] && echo "$logf" >>"$SCEN_LOGS"
  return 0
}

proc_alive() { [ -f "$WORK/pids/$1" ] && kill -0 "$(cat "$WORK/pids/$1")" 2>/dev/null; }

# log_hint LOGFILE: the most telling line of a failed start: an authorizer
# denial, else the exception after a "Fatal error" line, else the first
# ERROR, else the first exception.
log_hint() {
  local l
  l=$(grep -m1 -E 'is Denied [Oo]peration' "$1" 2>/dev/null || true)
  [ -n "$l" ] || l=$(grep -m1 -A1 -E ' ERROR .*[Ff]atal' "$1" 2>/dev/null | tail -1 || true)
  [ -n "$l" ] || l=$(grep -m1 -E ' ERROR ' "$1" 2>/dev/null || true)
  [ -n "$l" ] || l=$(grep -m1 -E 'Exception' "$1" 2>/dev/null || true)
  echo "$l" | cut -c1-400
}

# wait_log NAME LOGFILE REGEX: until the log matches, the process dies or
# WAIT passes; a process that did not start is stopped.
wait_log() {
  local name=$1 logf=$2 re=$3 deadline=$((SECONDS + WAIT))
  while ((SECONDS < deadline)); do
    grep -qE "$re" "$logf" 2>/dev/null && return 0
    proc_alive "$name" || fail "$name exited during startup: $(log_hint "$logf")"
    sleep 0.5
  done
  stop_proc "$name" 10
  fail "$name did not log /$re/ within ${WAIT}s: $(log_hint "$logf")"
}

# free_port: a random port nobody listens on and this run has not handed
# out yet (recorded in a file: callers run it in $(...) subshells).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    grep -qx "$p" "$WORK/ports.used" 2>/dev/null && continue
    port_busy "$p" && continue
    echo "$p" >>"$WORK/ports.used"
    echo "$p"
    return
  done
}

# ---------------------------------------------------------------- scenarios
# run_scenario NAME FUNCTION: runs FUNCTION in a subshell with errexit; one
# result line. fail "reason" inside ends the scenario with that reason.
RESULTS=()
run_scenario() {
  local name=$1 fn=$2 rc reason
  export SCEN_REASON="$WORK/scen/$fn.reason" SCEN_LOGS="$WORK/scen/$fn.logs"
  : >"$SCEN_LOGS"
  rm -f "$SCEN_REASON"
  log "scenario $name"
  set +e
  (
    set -eE
    trap '[ -s "$SCEN_REASON" ] || echo "line $LINENO: command failed: $BASH_COMMAND" >"$SCEN_REASON"' ERR
    "$fn"
  )
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    echo "PASS $name"
    RESULTS+=("PASS $name")
  elif [ "$rc" = 3 ] && [ "${CI:-}" = true ]; then
    # Under CI every scenario must run: a skip is a failure there.
    FAILED=1
    reason=$(cat "$SCEN_REASON" 2>/dev/null || echo "skipped")
    echo "FAIL $name: skipped under CI=true: $reason"
    RESULTS+=("FAIL $name")
  elif [ "$rc" = 3 ]; then
    reason=$(cat "$SCEN_REASON" 2>/dev/null || echo "skipped")
    echo "SKIP $name: $reason"
    RESULTS+=("SKIP $name")
  else
    FAILED=1
    reason=$(head -c 600 "$SCEN_REASON" 2>/dev/null | tr '\n' ' ' || true)
    echo "FAIL $name: ${reason:-exit status $rc}"
    RESULTS+=("FAIL $name")
    local f
    f=$(ls -t "$WORK/out" | head -1)
    if [ -n "$f" ]; then
      printf -- '---- last tool output %s\n' "$WORK/out/$f" >&2
      tail -n 15 "$WORK/out/$f" | cut -c1-400 | sed 's/^/  | /' >&2
    fi
    sort -u "$SCEN_LOGS" | while read -r f; do
      [ -f "$f" ] || continue
      printf -- '---- tail of %s\n' "$f" >&2
      tail -n 40 "$f" | cut -c1-400 | sed 's/^/  | /' >&2
    done
  fi
}
fail() { printf '%s\n' "$*" >"$SCEN_REASON"; exit 1; }
skip() { printf '%s\n' "$*" >"$SCEN_REASON"; exit 3; }
note_log() { echo "$1" >>"$SCEN_LOGS"; }

# fail_all REASON: no scenario can run.
fail_all() {
  FAILED=1
  local s
  for s in $SCENARIOS; do echo "FAIL $s: $1"; done
  exit 1
}

# wanted GROUP [ID]: KAFKATLS_INTEROP_ONLY names all, the group or the id.
wanted() {
  case ",$ONLY," in *,all,* | *,"$1",*) return 0 ;; esac
  [ -n "${2:-}" ] && case ",$ONLY," in *,"$2",*) return 0 ;; esac
  return 1
}

# Scenario files: each interop/scenarios/*.sh defines its function and calls
#   plugin_scenario ID GROUP FUNCTION "LABEL"
# They run after the built-in groups, each on brokers of its own, with the
# Kafka 4 jars in $K4 (and `connect_jars` for Connect and MirrorMaker 2).
PLUGINS=()
plugin_scenario() { PLUGINS+=("$1|$2|$3|$4"); }
for f in "$HERE"/scenarios/*.sh; do
  [ -f "$f" ] || continue
  # shellcheck source=/dev/null
  . "$f"
done
WANTED_PLUGINS=()
for p in ${PLUGINS[@]+"${PLUGINS[@]}"}; do
  IFS='|' read -r p_id p_group _ _ <<<"$p"
  if wanted "$p_group" "$p_id"; then WANTED_PLUGINS+=("$p"); fi
done

SCENARIOS=""
if wanted kraft; then SCENARIOS="$SCENARIOS kraft-mtls-acls kraft-kcat kraft-hostname-verification kafkatls-verify kraft-store-types kraft-split-controller"; fi
if wanted zookeeper; then SCENARIOS="$SCENARIOS zookeeper-tls"; fi
for p in ${WANTED_PLUGINS[@]+"${WANTED_PLUGINS[@]}"}; do SCENARIOS="$SCENARIOS ${p%%|*}"; done
[ -n "$SCENARIOS" ] || { echo "KAFKATLS_INTEROP_ONLY=$ONLY names no scenario" >&2; exit 2; }

# tool JARDIR CLASS args...: a Kafka CLI tool, bounded. TOOL_JVM is set below
# (before the first call).
tool() {
  local dir=$1
  shift
  timeout 120 "$JAVA" "${TOOL_JVM[@]}" -cp "$dir/*" "$@"
}

# ---------------------------------------------------------------- toolchain
for t in "$JAVA" mvn unzip timeout; do
  command -v "$t" >/dev/null || fail_all "$t not found"
done
JAVA_VERSION=$("$JAVA" -version 2>&1 | head -1)
log "java: $JAVA_VERSION"

# ---------------------------------------------------------------- logging configs
cat >"$WORK/log4j2-server.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
EOF
cat >"$WORK/log4j2-tools.properties" <<'EOF'
status = error
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
EOF
cat >"$WORK/log4j-server.properties" <<'EOF'
log4j.rootLogger=INFO, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
cat >"$WORK/log4j-tools.properties" <<'EOF'
log4j.rootLogger=WARN, err
log4j.appender.err=org.apache.log4j.ConsoleAppender
log4j.appender.err.Target=System.err
log4j.appender.err.layout=org.apache.log4j.PatternLayout
log4j.appender.err.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF

SERVER_JVM=(-Xms256m -Xmx768m -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$WORK/log4j2-server.properties" "-Dlog4j.configuration=file:$WORK/log4j-server.properties")
TOOL_JVM=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$WORK/log4j2-tools.properties" "-Dlog4j.configuration=file:$WORK/log4j-tools.properties")


# fetch_jars NAME POM: copies the pom's runtime dependencies into the cache
# once (keyed by the pom's hash) and prints the directory.
fetch_jars() {
  local name=$1 pom=$2 sum dir
  sum=$(sha256sum "$pom" | cut -c1-12)
  dir="$CACHE/jars/$name-$sum"
  if [ ! -f "$dir/.complete" ]; then
    log "fetching $name jars with mvn (once; cached in $dir)"
    rm -rf "$dir.tmp"
    mkdir -p "$CACHE"
    if ! timeout 900 mvn -B -q -f "$pom" -Dmaven.repo.local="$CACHE/m2" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir.tmp" >"$WORK/out/mvn-$name.txt" 2>&1; then
      tail -20 "$WORK/out/mvn-$name.txt" >&2
      return 1
    fi
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    # Class listing, to find main classes that moved between versions.
    for j in "$dir"/*.jar; do unzip -Z1 "$j" 2>/dev/null | sed -n 's/\.class$//p' | tr / .; done >"$dir/.classes"
    touch "$dir/.complete"
    # Drop jar sets of earlier versions of this pom.
    for j in "$CACHE/jars/$name"-*; do
      [ "$j" = "$dir" ] || rm -rf "$j"
    done
  fi
  echo "$dir"
}

# find_class JARDIR CANDIDATE...: the first candidate class present.
find_class() {
  local dir=$1 c
  shift
  for c in "$@"; do
    grep -qxF "$c" "$dir/.classes" && { echo "$c"; return 0; }
  done
  echo "none of $* in $dir" >&2
  return 1
}

jar_version() { # JARDIR ARTIFACT -> version from the jar file name
  local f
  f=$(cd "$1" && ls "$2"-[0-9]*.jar 2>/dev/null | head -1)
  f=${f#"$2"-}
  echo "${f%.jar}"
}

want_kraft=0 want_zk=0 want_k4=0
if wanted kraft; then want_kraft=1; fi
if wanted zookeeper; then want_zk=1; fi
if [ $want_kraft = 1 ] || [ ${#WANTED_PLUGINS[@]} -gt 0 ]; then want_k4=1; fi

# connect_jars: the Connect and MirrorMaker 2 jars (interop/connect/pom.xml,
# same Kafka version as interop/kafka4) into $KC, fetched on first use.
KC=""
connect_jars() {
  [ -n "$KC" ] && return 0
  KC=$(fetch_jars connect "$HERE/connect/pom.xml") || fail "mvn could not fetch the Connect jars (interop/connect/pom.xml)"
}

K4=""
K39=""
if [ $want_k4 = 1 ]; then
  K4=$(fetch_jars kafka4 "$HERE/kafka4/pom.xml") || fail_all "mvn could not fetch the Kafka 4 jars (interop/kafka4/pom.xml)"
  K4_VERSION=$(jar_version "$K4" kafka-clients)
  K4_KAFKA=$(find_class "$K4" kafka.Kafka)
  K4_STORAGE=$(find_class "$K4" org.apache.kafka.tools.StorageTool kafka.tools.StorageTool)
  K4_ACLS=$(find_class "$K4" org.apache.kafka.tools.AclCommand kafka.admin.AclCommand)
  K4_CONFIGS=$(find_class "$K4" org.apache.kafka.tools.ConfigCommand kafka.admin.ConfigCommand)
  K4_PRODUCER=$(find_class "$K4" org.apache.kafka.tools.ConsoleProducer kafka.tools.ConsoleProducer)
  K4_CONSUMER=$(find_class "$K4" org.apache.kafka.tools.consumer.ConsoleConsumer kafka.tools.ConsoleConsumer)
  # Kafka 4.2+ renamed --producer.config/--consumer.config to --command-config
  # and --producer-property to --command-property (the old ones warn).
  K4_PRODUCER_HELP=$(tool "$K4" "$K4_PRODUCER" --help 2>&1 || true)
  K4_CONSUMER_HELP=$(tool "$K4" "$K4_CONSUMER" --help 2>&1 || true)
  K4_PCFG=--producer.config K4_PPROP=--producer-property K4_CCFG=--consumer.config
  grep -q -- '--command-config' <<<"$K4_PRODUCER_HELP" && K4_PCFG=--command-config
  grep -q -- '--command-property' <<<"$K4_PRODUCER_HELP" && K4_PPROP=--command-property
  grep -q -- '--command-config' <<<"$K4_CONSUMER_HELP" && K4_CCFG=--command-config
  log "Kafka $K4_VERSION: $K4"
fi
if [ $want_zk = 1 ]; then
  K39=$(fetch_jars kafka39 "$HERE/kafka39/pom.xml") || fail_all "mvn could not fetch the Kafka 3.9 jars (interop/kafka39/pom.xml)"
  K39_VERSION=$(jar_version "$K39" kafka-clients)
  K39_KAFKA=$(find_class "$K39" kafka.Kafka)
  K39_ACLS=$(find_class "$K39" org.apache.kafka.tools.AclCommand kafka.admin.AclCommand)
  K39_TOPICS=$(find_class "$K39" org.apache.kafka.tools.TopicCommand kafka.admin.TopicCommand)
  K39_PRODUCER=$(find_class "$K39" org.apache.kafka.tools.ConsoleProducer kafka.tools.ConsoleProducer)
  K39_CONSUMER=$(find_class "$K39" org.apache.kafka.tools.consumer.ConsoleConsumer kafka.tools.ConsoleConsumer)
  K39_ZKSHELL=$(find_class "$K39" org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka)
  log "Kafka $K39_VERSION: $K39"
fi

# ---------------------------------------------------------------- kafkatls
if [ -n "${KAFKATLS:-}" ]; then
  KT=$KAFKATLS
else
  KT="$WORK/bin/kafkatls"
  log "building kafkatls"
  (cd "$ROOT" && go build -o "$KT" .) >"$WORK/out/go-build.txt" 2>&1 ||
    fail_all "kafkatls does not build: $(head -3 "$WORK/out/go-build.txt" | tr '\n' ' ')"
fi
kt() { "$KT" "$@"; }

# kafka-acls.sh stand-ins (acls.sh runs "$KAFKA_ACLS"): the AclCommand class;
# kafka-configs.sh (the reload commands kafkatls prints): ConfigCommand.
write_acls_wrapper() { # FILE JARDIR CLASS
  {
    echo '#!/bin/sh'
    echo "exec timeout 120 $(printf '%q ' "$JAVA" "${TOOL_JVM[@]}" -cp "$2/*" "$3")\"\$@\""
  } >"$1"
  chmod +x "$1"
}
if [ -n "$K4" ]; then
  write_acls_wrapper "$WORK/bin/kafka-acls.sh" "$K4" "$K4_ACLS"
  write_acls_wrapper "$WORK/bin/kafka-configs.sh" "$K4" "$K4_CONFIGS"
fi
if [ -n "$K39" ]; then write_acls_wrapper "$WORK/bin/kafka-acls-39.sh" "$K39" "$K39_ACLS"; fi

# run_out STEP cmd...: runs cmd (stdin from caller), output to $WORK/out/STEP.txt; returns its status.
run_out() {
  local step=$1
  shift
  local rc=0
  "$@" >"$WORK/out/$step.txt" 2>&1 || rc=$?
  return $rc
}
first_error() { grep -m1 -E 'ERROR|Exception|error|Error' "$WORK/out/$1.txt" | cut -c1-300 || true; }

# set_stores FILE TYPE CERTDIR: replace the unprefixed ssl.keystore/truststore
# lines of a server.properties with the JKS, PKCS12 or PEM stores of CERTDIR,
# keeping the (escaped) password kafkatls wrote.
set_stores() {
  local file=$1 type=$2 dir=$3 pw
  pw=$(grep -m1 '^ssl.keystore.password=' "$file" | cut -d= -f2- || true)
  [ -n "$pw" ] || pw=$(grep -m1 '^#kafkatls-pw=' "$file" | cut -d= -f2-)
  grep -vE '^(ssl\.keystore\.|ssl\.truststore\.|ssl\.key\.password=|#kafkatls-pw=)' "$file" >"$file.new"
  {
    echo "#kafkatls-pw=$pw"
    case $type in
      JKS | PKCS12)
        local ext=jks
        [ "$type" = PKCS12 ] && ext=p12
        echo "ssl.keystore.type=$type"
        echo "ssl.keystore.location=$dir/keystore.$ext"
        echo "ssl.keystore.password=$pw"
        echo "ssl.key.password=$pw"
        echo "ssl.truststore.type=$type"
        echo "ssl.truststore.location=$dir/truststore.$ext"
        echo "ssl.truststore.password=$pw"
        ;;
      PEM)
        echo "ssl.keystore.type=PEM"
        echo "ssl.keystore.location=$dir/keystore.pem"
        echo "ssl.truststore.type=PEM"
        echo "ssl.truststore.location=$dir/ca.crt"
        ;;
    esac
  } >>"$file.new"
  mv "$file.new" "$file"
}

# props_get FILE KEY: the last value of KEY.
props_get() { grep -E "^$2=" "$1" | tail -1 | cut -d= -f2-; }

# ================================================================ KRaft (Kafka 4)
KR_PKI="$WORK/kraft/pki"
KR_BROKER_LOG="$WORK/kraft/broker.log"
KR_PROPS="$WORK/kraft/server.properties"
KR_COUNT_FILE="$WORK/kraft/my-topic.count"

kr_start_broker() {
  # Keep the previous run's log (broker.log.1, .2, ...): wait_log needs a fresh file.
  if [ -s "$KR_BROKER_LOG" ]; then
    local n=1
    while [ -e "$KR_BROKER_LOG.$n" ]; do n=$((n + 1)); done
    mv "$KR_BROKER_LOG" "$KR_BROKER_LOG.$n"
  fi
  start_proc kraft-broker "$KR_BROKER_LOG" "$JAVA" "${SERVER_JVM[@]}" -cp "$K4/*" "$K4_KAFKA" "$KR_PROPS"
  wait_log kraft-broker "$KR_BROKER_LOG" 'Kafka Server started'
}

# kr_produce STEP CLIENT_CONFIG TOPIC MSG...: console producer (Kafka 4).
kr_produce() {
  local step=$1 cfg=$2 topic=$3
  shift 3
  # The client's config file verbatim; bounded waits on the command line.
  printf '%s\n' "$@" | run_out "$step" tool "$K4" "$K4_PRODUCER" --bootstrap-server "localhost:$KR_PORT" \
    "$K4_PCFG" "$cfg" --topic "$topic" "$K4_PPROP" max.block.ms=20000 \
    "$K4_PPROP" delivery.timeout.ms=30000 "$K4_PPROP" request.timeout.ms=20000
}
# kr_consume STEP CLIENT_CONFIG TOPIC GROUP N: N messages from the beginning.
kr_consume() {
  run_out "$1" tool "$K4" "$K4_CONSUMER" --bootstrap-server "localhost:$KR_PORT" "$K4_CCFG" "$2" \
    --topic "$3" --group "$4" --from-beginning --max-messages "$5" --timeout-ms 30000
}
count_add() { echo $(($(cat "$KR_COUNT_FILE" 2>/dev/null || echo 0) + $1)) >"$KR_COUNT_FILE"; }
count() { cat "$KR_COUNT_FILE" 2>/dev/null || echo 0; }

# kr_roundtrip LABEL CONFIG: client CONFIG writes 2 messages to my-topic and
# reads them back (all N messages so far, from the beginning, in a new group).
kr_roundtrip() {
  local label=$1 cfg=$2 m1="$1-$RANDOM-1" m2="$1-$RANDOM-2" n
  kr_produce "produce-$label" "$cfg" my-topic "$m1" "$m2" ||
    fail "$label: producer exited non-zero: $(first_error "produce-$label")"
  if grep -qE 'ERROR|Exception' "$WORK/out/produce-$label.txt"; then
    fail "$label: produce to my-topic failed: $(first_error "produce-$label")"
  fi
  count_add 2
  n=$(count)
  kr_consume "consume-$label" "$cfg" my-topic "grp-$label-$RANDOM" "$n" ||
    fail "$label: consumer exited non-zero: $(first_error "consume-$label")"
  grep -qxF "$m1" "$WORK/out/consume-$label.txt" && grep -qxF "$m2" "$WORK/out/consume-$label.txt" ||
    fail "$label: consumed $(grep -c . "$WORK/out/consume-$label.txt") lines without its messages: $(first_error "consume-$label")"
}

scenario_kraft_mtls_acls() {
  note_log "$KR_BROKER_LOG"
  mkdir -p "$WORK/kraft/data"
  KR_PORT=$(free_port)
  KR_CPORT=$(free_port)
  echo "$KR_PORT $KR_CPORT" >"$WORK/kraft/ports"
  cat >"$WORK/kraft/kafkatls.yaml" <<EOF
mode: kraft
brokers:
  - name: kafka-1
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $KR_PORT
clients:
  - name: client1
    grants:
      - topic: my-topic
        operations: [Read, Write, Create]
      - group: "*"
        operations: [Read]
  - name: nogrants
EOF
  run_out kraft-bundle kt bundle -f "$WORK/kraft/kafkatls.yaml" --dir "$KR_PKI" ||
    fail "kafkatls bundle failed: $(tail -3 "$WORK/out/kraft-bundle.txt" | tr '\n' ' ')"
  local b="$KR_PKI/certs/kafka-1" f
  for f in "$b/server.properties" "$b/keystore.jks" "$b/keystore.p12" "$b/keystore.pem" "$KR_PKI/acls.sh" \
    "$KR_PKI/super-users.properties" "$KR_PKI/certs/client1/client.properties" "$KR_PKI/certs/client1/kcat.conf"; do
    [ -f "$f" ] || fail "kafkatls bundle did not write $f"
  done
  [ "$(props_get "$b/server.properties" super.users)" = "$(props_get "$KR_PKI/super-users.properties" super.users)" ] ||
    fail "super.users differs between certs/kafka-1/server.properties and super-users.properties"

  # The generated snippet first, then the node-specific settings kafkatls
  # leaves to the user (later keys win in java.util.Properties).
  {
    cat "$b/server.properties"
    echo
    echo "# ---- interop/run.sh: node-specific settings"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.bootstrap.servers=localhost:$KR_CPORT"
    echo "listeners=SSL://127.0.0.1:$KR_PORT,CONTROLLER://127.0.0.1:$KR_CPORT"
    echo "advertised.listeners=SSL://localhost:$KR_PORT,CONTROLLER://localhost:$KR_CPORT"
    echo "log.dirs=$WORK/kraft/data"
    echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    grep '^super.users=' "$KR_PKI/super-users.properties"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "share.coordinator.state.topic.replication.factor=1"
    echo "share.coordinator.state.topic.min.isr=1"
    echo "group.initial.rebalance.delay.ms=0"
  } >"$KR_PROPS"

  local uuid
  uuid=$(tool "$K4" "$K4_STORAGE" random-uuid 2>/dev/null | tail -1)
  run_out kraft-format tool "$K4" "$K4_STORAGE" format -t "$uuid" -c "$KR_PROPS" --standalone ||
    fail "kafka-storage format rejected the config: $(first_error kraft-format)"
  kr_start_broker

  # acls.sh, exactly as kafkatls wrote it, with kafka-acls.sh = AclCommand.
  local admin
  admin=$(sed -n 's/^COMMAND_CONFIG="\${COMMAND_CONFIG:-\(.*\)}"$/\1/p' "$KR_PKI/acls.sh")
  [ -f "$admin" ] || fail "acls.sh's default COMMAND_CONFIG '$admin' does not exist"
  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" BOOTSTRAP="localhost:$KR_PORT" run_out kraft-acls sh "$KR_PKI/acls.sh" ||
    fail "acls.sh failed: $(first_error kraft-acls)"
  run_out kraft-acl-list "$WORK/bin/kafka-acls.sh" --bootstrap-server "localhost:$KR_PORT" --command-config "$admin" --list ||
    fail "kafka-acls --list failed: $(first_error kraft-acl-list)"
  local p1
  p1=$(cat "$KR_PKI/certs/client1/principal.txt")
  grep -qF "principal=$p1, host=*, operation=WRITE" "$WORK/out/kraft-acl-list.txt" ||
    fail "after acls.sh, no WRITE ACL for $p1 (principal.txt) in kafka-acls --list"

  # client1: produce and consume on my-topic with its generated client.properties.
  kr_roundtrip client1 "$KR_PKI/certs/client1/client.properties"

  # client1 on other-topic: denied by the authorizer.
  kr_produce client1-other "$KR_PKI/certs/client1/client.properties" other-topic denied || true
  grep -qE 'TopicAuthorizationException: Not authorized to access topics: \[other-topic\]|TOPIC_AUTHORIZATION_FAILED' \
    "$WORK/out/client1-other.txt" ||
    fail "client1 on other-topic: expected a topic authorization failure, got: $(first_error client1-other)"

  # A client with a valid certificate but no grants.
  kr_produce nogrants "$KR_PKI/certs/nogrants/client.properties" my-topic denied || true
  grep -qE 'TopicAuthorizationException|TOPIC_AUTHORIZATION_FAILED' "$WORK/out/nogrants.txt" ||
    fail "nogrants on my-topic: expected a topic authorization failure, got: $(first_error nogrants)"

  # A client without a keystore: the broker must refuse the TLS handshake.
  grep -vE '^(ssl\.keystore\.|ssl\.key\.password=)' "$KR_PKI/certs/client1/client.properties" >"$WORK/kraft/nokeystore.properties"
  local before after
  before=$(grep -c 'SSL handshake failed' "$KR_BROKER_LOG" || true)
  kr_produce nokeystore "$WORK/kraft/nokeystore.properties" my-topic denied || true
  grep -qE 'SslAuthenticationException|SSL handshake failed|Failed authentication' "$WORK/out/nokeystore.txt" ||
    fail "client without keystore: expected an SSL authentication failure, got: $(first_error nokeystore)"
  sleep 1
  after=$(grep -c 'SSL handshake failed' "$KR_BROKER_LOG" || true)
  ((after > before)) || fail "client without keystore: the broker log shows no 'SSL handshake failed'"
  not_denied "$KR_BROKER_LOG" "$b/principal.txt"
}

# not_denied LOG PRINCIPAL_FILE: the node's own principal (a super user) was never denied.
not_denied() {
  local p line
  p=$(cat "$2")
  line=$(grep -m1 -F "Principal = $p is Denied" "$1" || true)
  [ -z "$line" ] || fail "the broker's own principal was denied (super.users does not match it): $(echo "$line" | cut -c1-300)"
}

scenario_kraft_kcat() {
  note_log "$KR_BROKER_LOG"
  command -v kcat >/dev/null || fail "kcat not installed"
  proc_alive kraft-broker || fail "the KRaft broker of kraft-mtls-acls is not running"
  read -r KR_PORT KR_CPORT <"$WORK/kraft/ports"
  local conf="$KR_PKI/certs/client1/kcat.conf" m="kcat-$RANDOM"
  # Bootstrap by IP (IP SAN); metadata then points at localhost (DNS SAN).
  run_out kcat-L timeout 60 kcat -F "$conf" -b "127.0.0.1:$KR_PORT" -L -m 30 ||
    fail "kcat -L failed: $(first_error kcat-L)"
  grep -qE "broker 1 at localhost:$KR_PORT" "$WORK/out/kcat-L.txt" ||
    fail "kcat -L: no 'broker 1 at localhost:$KR_PORT' in: $(head -c 300 "$WORK/out/kcat-L.txt")"
  printf '%s\n' "$m" | run_out kcat-P timeout 60 kcat -F "$conf" -b "127.0.0.1:$KR_PORT" -P -t my-topic -m 30 \
    -X enable.idempotence=true ||
    fail "kcat -P failed: $(first_error kcat-P)"
  grep -q ERROR "$WORK/out/kcat-P.txt" && fail "kcat -P: $(first_error kcat-P)"
  count_add 1
  run_out kcat-C timeout 60 kcat -F "$conf" -b "127.0.0.1:$KR_PORT" -C -t my-topic -o beginning -e -q -m 30 ||
    fail "kcat -C failed: $(first_error kcat-C)"
  grep -qxF "$m" "$WORK/out/kcat-C.txt" || fail "kcat -C did not read back '$m': $(first_error kcat-C)"
  # The grant-less client is refused by the authorizer through librdkafka too.
  printf 'x\n' | run_out kcat-nogrants timeout 60 kcat -F "$KR_PKI/certs/nogrants/kcat.conf" -b "127.0.0.1:$KR_PORT" -P -t my-topic -m 30 || true
  grep -qiE 'authoriz' "$WORK/out/kcat-nogrants.txt" ||
    fail "kcat as nogrants: expected an authorization failure, got: $(head -c 300 "$WORK/out/kcat-nogrants.txt")"
}

# A local name for 127.0.0.1 that is not in the broker certificate's SANs
# (kafka-1, localhost, 127.0.0.1): kafkatls-altname (.ci/run adds it to
# /etc/hosts), else the machine's hostname, which usually is one.
other_loopback_name() {
  local n ip
  for n in kafkatls-altname "$(hostname 2>/dev/null)" "$(hostname -f 2>/dev/null)"; do
    case $n in "" | localhost | localhost.* | kafka-1) continue ;; esac
    ip=$(getent ahostsv4 "$n" 2>/dev/null | awk 'NR==1 {print $1}')
    [ "$ip" = 127.0.0.1 ] && { echo "$n"; return 0; }
  done
  return 1
}

scenario_kraft_hostname_verification() {
  note_log "$KR_BROKER_LOG"
  proc_alive kraft-broker || fail "the KRaft broker of kraft-mtls-acls is not running"
  read -r KR_PORT KR_CPORT <"$WORK/kraft/ports"
  local name
  name=$(other_loopback_name) || skip "no local name other than localhost resolves to 127.0.0.1 (e.g. in /etc/hosts)"
  # Java client, client.properties as generated: must reject the broker's certificate for $name.
  printf 'x\n' | run_out hv-java tool "$K4" "$K4_PRODUCER" --bootstrap-server "$name:$KR_PORT" \
    "$K4_PCFG" "$KR_PKI/certs/client1/client.properties" --topic my-topic "$K4_PPROP" max.block.ms=5000 || true
  grep -qE 'No subject alternative (DNS )?name' "$WORK/out/hv-java.txt" ||
    fail "Java client dialled $name (not in the SANs) without a hostname verification error: $(first_error hv-java)"
  if command -v kcat >/dev/null; then
    run_out hv-kcat timeout 60 kcat -F "$KR_PKI/certs/client1/kcat.conf" -b "$name:$KR_PORT" -L -m 10 || true
    grep -q 'certificate verify failed' "$WORK/out/hv-kcat.txt" ||
      fail "kcat dialled $name (not in the SANs) without a certificate verification error: $(head -c 300 "$WORK/out/hv-kcat.txt")"
  fi
}

scenario_kafkatls_verify() {
  note_log "$KR_BROKER_LOG"
  if ! kt verify --help >/dev/null 2>&1; then
    skip "this kafkatls has no verify command"
  fi
  proc_alive kraft-broker || fail "the KRaft broker of kraft-mtls-acls is not running"
  read -r KR_PORT KR_CPORT <"$WORK/kraft/ports"
  run_out verify timeout 120 "$KT" verify --bootstrap "127.0.0.1:$KR_PORT" --client-dir "$KR_PKI/certs/client1" --topic my-topic ||
    fail "kafkatls verify (client1) exited non-zero against the real broker: $(tail -5 "$WORK/out/verify.txt" | tr '\n' ' ' | cut -c1-400)"
  # A client without grants on my-topic: verify --topic must say so.
  local rc=0
  run_out verify-nogrants timeout 120 "$KT" verify --bootstrap "127.0.0.1:$KR_PORT" --client-dir "$KR_PKI/certs/nogrants" --topic my-topic || rc=$?
  ((rc != 0)) || fail "kafkatls verify --topic my-topic passed for nogrants, which has no ACL on my-topic"
  grep -q 'my-topic' "$WORK/out/verify-nogrants.txt" ||
    fail "kafkatls verify for nogrants failed without naming my-topic: $(tail -3 "$WORK/out/verify-nogrants.txt" | tr '\n' ' ' | cut -c1-300)"
  # Dialled by a name outside the broker's SANs: verify must fail.
  local name
  if name=$(other_loopback_name); then
    rc=0
    run_out verify-badname timeout 120 "$KT" verify --bootstrap "$name:$KR_PORT" --client-dir "$KR_PKI/certs/client1" || rc=$?
    ((rc != 0)) || fail "kafkatls verify passed dialling $name:$KR_PORT, a name outside the broker certificate's SANs"
  fi
}

scenario_kraft_store_types() {
  note_log "$KR_BROKER_LOG"
  [ -f "$KR_PROPS" ] || fail "kraft-mtls-acls did not get as far as a broker config"
  read -r KR_PORT KR_CPORT <"$WORK/kraft/ports"
  local b="$KR_PKI/certs/kafka-1" admin="$KR_PKI/certs/kafka-1/client.properties" c

  # Clients issued with a single store format, so their client.properties
  # is kafkatls's JKS-only and PEM-only rendering.
  for c in jks pem; do
    run_out "issue-client-$c" kt issue "client-$c" --formats "$c" --dir "$KR_PKI" ||
      fail "kafkatls issue client-$c --formats $c failed: $(tail -2 "$WORK/out/issue-client-$c.txt" | tr '\n' ' ')"
  done
  grep -q '^ssl.keystore.type=PEM' "$KR_PKI/certs/client-pem/client.properties" ||
    fail "client-pem/client.properties (--formats pem) does not use ssl.keystore.type=PEM"
  grep -q '^ssl.keystore.type=JKS' "$KR_PKI/certs/client-jks/client.properties" ||
    fail "client-jks/client.properties (--formats jks) does not use ssl.keystore.type=JKS"
  # A client with kafkatls's JKS keystore and the bundle-level PKCS12 truststore.
  {
    grep -vE '^ssl\.truststore\.' "$KR_PKI/certs/client-jks/client.properties"
    echo "ssl.truststore.type=PKCS12"
    echo "ssl.truststore.location=$KR_PKI/truststore.p12"
    echo "ssl.truststore.password=$(head -1 "$KR_PKI/truststore.password")"
  } >"$WORK/kraft/bundle-truststore.properties"

  local broker_was_up=0
  proc_alive kraft-broker && broker_was_up=1
  ((broker_was_up)) || fail "the KRaft broker of kraft-mtls-acls is not running"
  for c in jks pem; do
    run_out "acl-client-$c" "$WORK/bin/kafka-acls.sh" --bootstrap-server "localhost:$KR_PORT" --command-config "$admin" \
      --add --allow-principal "$(cat "$KR_PKI/certs/client-$c/principal.txt")" \
      --operation Read --operation Write --operation Describe --topic my-topic ||
      fail "granting client-$c failed: $(first_error "acl-client-$c")"
    run_out "acl-client-$c-group" "$WORK/bin/kafka-acls.sh" --bootstrap-server "localhost:$KR_PORT" --command-config "$admin" \
      --add --allow-principal "$(cat "$KR_PKI/certs/client-$c/principal.txt")" --operation Read --group '*' ||
      fail "granting client-$c on groups failed: $(first_error "acl-client-$c-group")"
  done

  # 1. Broker on JKS stores (keystore.jks/truststore.jks).
  stop_proc kraft-broker
  set_stores "$KR_PROPS" JKS "$b"
  cp "$KR_PROPS" "$WORK/kraft/server-jks.properties"
  kr_start_broker
  kr_roundtrip jks-broker-client1 "$KR_PKI/certs/client1/client.properties"
  kr_roundtrip jks-broker-client-jks "$KR_PKI/certs/client-jks/client.properties"

  # 2. Broker on a PEM keystore (keystore.pem, no password) and PEM truststore (ca.crt).
  stop_proc kraft-broker
  set_stores "$KR_PROPS" PEM "$b"
  cp "$KR_PROPS" "$WORK/kraft/server-pem.properties"
  kr_start_broker
  kr_roundtrip pem-broker-client-pem "$KR_PKI/certs/client-pem/client.properties"
  kr_roundtrip pem-broker-bundle-truststore "$WORK/kraft/bundle-truststore.properties"

  # 3. Back to PKCS12 (what kafkatls generated), PKCS12 client.
  stop_proc kraft-broker
  set_stores "$KR_PROPS" PKCS12 "$b"
  kr_start_broker
  kr_roundtrip p12-broker-client1 "$KR_PKI/certs/client1/client.properties"
}

# served_cert FIELD: -serial or -issuer of the certificate the KRaft broker
# presents (client1's current certificate for the mutual TLS handshake).
served_cert() {
  local c="$KR_PKI/certs/client1"
  openssl s_client -connect "127.0.0.1:$KR_PORT" -cert "$c/tls.crt" -key "$c/tls.key" </dev/null 2>/dev/null |
    openssl x509 -noout "$1" 2>/dev/null | cut -d= -f2-
}

# wait_served FIELD WANT LABEL: until the broker presents a certificate whose
# FIELD is WANT (a dynamic config change reaches the broker through the
# metadata log, not at once).
wait_served() {
  local i got
  for i in $(seq 1 40); do
    got=$(served_cert "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.5
  done
  fail "$3: after the reload the broker still presents $1 '$got', want '$2'"
}

# run_reloads STEP: runs, exactly as printed, every kafka-configs.sh command
# in the output of kafkatls STEP (kafka-configs.sh = ConfigCommand).
run_reloads() {
  local step=$1 n=0 line
  while IFS= read -r line; do
    n=$((n + 1))
    PATH="$WORK/bin:$PATH" run_out "$step-reload-$n" sh -c "$line" ||
      fail "$step: the printed reload command failed: $(first_error "$step-reload-$n") [$line]"
    grep -q 'Completed updating config' "$WORK/out/$step-reload-$n.txt" ||
      fail "$step: kafka-configs did not confirm the update: $(head -c 300 "$WORK/out/$step-reload-$n.txt")"
  done < <(grep '^kafka-configs.sh ' "$WORK/out/$step.txt")
  ((n > 0)) || fail "$step: kafkatls printed no kafka-configs.sh command for kafka-1"
}

# kafkatls renew on a live broker, reloaded with the kafka-configs command
# kafkatls prints (no restart); then a whole CA rotation, each step deployed
# the way kafkatls prints it, with the broker restarted between steps (the
# printed truststore reload is not reliable on Kafka 4.3.1: see
# docs/lifecycle.md). The broker's certificate, trust and clients are checked
# after every step.
scenario_kraft_live_rotation() {
  note_log "$KR_BROKER_LOG"
  command -v openssl >/dev/null || fail "openssl not installed"
  proc_alive kraft-broker || fail "the KRaft broker is not running"
  read -r KR_PORT KR_CPORT <"$WORK/kraft/ports"
  local b="$KR_PKI/certs/kafka-1" old="$WORK/kraft/client1-oldca" want
  local ro=(--dir "$KR_PKI" --node-id kafka-1=1 --bootstrap "localhost:$KR_PORT" --command-config "$b/client.properties")
  grep -q "^ssl.keystore.location=$b/keystore.p12\$" "$KR_PROPS" ||
    fail "the broker does not run on kafka-1's PKCS12 keystore (kraft-store-types step 3)"

  # 1. renew: a new certificate, same key, paths and password; reloaded live.
  run_out live-renew kt renew kafka-1 "${ro[@]}" || fail "kafkatls renew kafka-1 failed: $(tail -2 "$WORK/out/live-renew.txt" | tr '\n' ' ')"
  want=$(openssl x509 -noout -serial -in "$b/tls.crt" | cut -d= -f2)
  [ "$(served_cert -serial)" != "$want" ] || fail "renew: the broker already presents the renewed certificate before any reload"
  run_reloads live-renew
  wait_served -serial "$want" "renew"
  kr_roundtrip renewed-broker-client1 "$KR_PKI/certs/client1/client.properties"

  # 2. ca rotate start: every truststore holds both CAs.
  run_out live-rotate-start kt ca rotate start "${ro[@]}" ||
    fail "kafkatls ca rotate start failed: $(tail -2 "$WORK/out/live-rotate-start.txt" | tr '\n' ' ')"
  grep -q '^kafka-configs.sh .*ssl\.truststore\.location=' "$WORK/out/live-rotate-start.txt" ||
    fail "ca rotate start printed no truststore reload command for kafka-1"
  stop_proc kraft-broker
  kr_start_broker
  # A client still on the old CA (but trusting both): a copy of client1 now.
  rm -rf "$old"
  cp -r "$KR_PKI/certs/client1" "$old"
  sed "s#$KR_PKI/certs/client1/#$old/#g" "$KR_PKI/certs/client1/client.properties" >"$old/client.properties"

  # 3. ca rotate reissue: every identity on the new CA.
  run_out live-rotate-reissue kt ca rotate reissue "${ro[@]}" ||
    fail "kafkatls ca rotate reissue failed: $(tail -2 "$WORK/out/live-rotate-reissue.txt" | tr '\n' ' ')"
  stop_proc kraft-broker
  kr_start_broker
  want=$(openssl x509 -noout -serial -in "$b/tls.crt" | cut -d= -f2)
  [ "$(served_cert -serial)" = "$want" ] || fail "rotate reissue: the restarted broker does not present its reissued certificate"
  served_cert -issuer | grep -q 'G2' || fail "rotate reissue: the broker's certificate is not from the new CA: $(served_cert -issuer)"
  kr_roundtrip reissued-client1 "$KR_PKI/certs/client1/client.properties"
  kr_roundtrip oldca-client-during-rotation "$old/client.properties"

  # 4. ca rotate finish: the old CA leaves every truststore; the broker refuses it.
  run_out live-rotate-finish kt ca rotate finish "${ro[@]}" ||
    fail "kafkatls ca rotate finish failed: $(tail -2 "$WORK/out/live-rotate-finish.txt" | tr '\n' ' ')"
  stop_proc kraft-broker
  kr_start_broker
  kr_produce oldca-after-finish "$old/client.properties" my-topic refused || true
  grep -qE 'SslAuthenticationException|SSL handshake failed|Failed authentication' "$WORK/out/oldca-after-finish.txt" ||
    fail "rotate finish: a client certificate from the old CA is still accepted: $(first_error oldca-after-finish)"
  kr_roundtrip finished-client1 "$KR_PKI/certs/client1/client.properties"
  not_denied "$KR_BROKER_LOG" "$b/principal.txt"
}

# A separate KRaft controller (kafkatls's controller server.properties) and
# broker: the broker dials the controller over mTLS with its own ssl.* settings.
scenario_kraft_split_controller() {
  local d="$WORK/split" cport uuid
  mkdir -p "$d/cdata" "$d/bdata"
  note_log "$d/controller.log"
  note_log "$d/broker.log"
  KR_PORT=$(free_port)
  cport=$(free_port)
  KR_COUNT_FILE="$d/my-topic.count"
  cat >"$d/kafkatls.yaml" <<EOF
brokers:
  - name: kafka-1
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $KR_PORT
controllers:
  - name: controller-1
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $cport
clients:
  - name: client1
    grants:
      - topic: my-topic
        producer: true
      - topic: my-topic
        group: "interop-"
        prefixed: true
        consumer: true
EOF
  run_out split-bundle kt bundle -f "$d/kafkatls.yaml" --dir "$d/pki" ||
    fail "kafkatls bundle (broker + controller) failed: $(tail -3 "$WORK/out/split-bundle.txt" | tr '\n' ' ')"
  local c="$d/pki/certs/controller-1" b="$d/pki/certs/kafka-1"
  [ -f "$c/server.properties" ] || fail "kafkatls bundle did not write $c/server.properties"
  local common
  common=$(
    echo "controller.quorum.bootstrap.servers=localhost:$cport"
    echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    grep '^super.users=' "$d/pki/super-users.properties"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "share.coordinator.state.topic.replication.factor=1"
    echo "share.coordinator.state.topic.min.isr=1"
    echo "group.initial.rebalance.delay.ms=0"
  )
  {
    cat "$c/server.properties"
    echo
    echo "# ---- interop/run.sh: node-specific settings"
    echo "process.roles=controller"
    echo "node.id=1"
    echo "listeners=CONTROLLER://127.0.0.1:$cport"
    echo "advertised.listeners=CONTROLLER://localhost:$cport"
    echo "log.dirs=$d/cdata"
    echo "$common"
  } >"$d/controller.properties"
  {
    cat "$b/server.properties"
    echo
    echo "# ---- interop/run.sh: node-specific settings"
    echo "process.roles=broker"
    echo "node.id=2"
    echo "listeners=SSL://127.0.0.1:$KR_PORT"
    echo "advertised.listeners=SSL://localhost:$KR_PORT"
    echo "log.dirs=$d/bdata"
    echo "$common"
  } >"$d/broker.properties"
  uuid=$(tool "$K4" "$K4_STORAGE" random-uuid 2>/dev/null | tail -1)
  run_out split-format-c tool "$K4" "$K4_STORAGE" format -t "$uuid" -c "$d/controller.properties" --standalone ||
    fail "kafka-storage format rejected the controller config: $(first_error split-format-c)"
  run_out split-format-b tool "$K4" "$K4_STORAGE" format -t "$uuid" -c "$d/broker.properties" ||
    fail "kafka-storage format rejected the broker config: $(first_error split-format-b)"
  start_proc split-controller "$d/controller.log" "$JAVA" "${SERVER_JVM[@]}" -cp "$K4/*" "$K4_KAFKA" "$d/controller.properties"
  start_proc split-broker "$d/broker.log" "$JAVA" "${SERVER_JVM[@]}" -cp "$K4/*" "$K4_KAFKA" "$d/broker.properties"
  wait_log split-controller "$d/controller.log" 'Kafka Server started'
  wait_log split-broker "$d/broker.log" 'Kafka Server started'
  not_denied "$d/controller.log" "$b/principal.txt"

  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" BOOTSTRAP="localhost:$KR_PORT" run_out split-acls sh "$d/pki/acls.sh" ||
    fail "acls.sh failed: $(first_error split-acls)"
  local cfg="$d/pki/certs/client1/client.properties" m1="split-$RANDOM-1" m2="split-$RANDOM-2"
  kr_produce split-produce "$cfg" my-topic "$m1" "$m2" || fail "producer exited non-zero: $(first_error split-produce)"
  if grep -qE 'ERROR|Exception' "$WORK/out/split-produce.txt"; then
    fail "produce to my-topic failed: $(first_error split-produce)"
  fi
  kr_consume split-consume "$cfg" my-topic "interop-$RANDOM" 2 || fail "consumer exited non-zero: $(first_error split-consume)"
  grep -qxF "$m1" "$WORK/out/split-consume.txt" && grep -qxF "$m2" "$WORK/out/split-consume.txt" ||
    fail "consume did not return the messages: $(first_error split-consume)"
  not_denied "$d/controller.log" "$b/principal.txt"
  not_denied "$d/broker.log" "$b/principal.txt"
}

# ================================================================ ZooKeeper (Kafka 3.9)
ZK_PKI="$WORK/zk/pki"
ZK_LOG="$WORK/zk/zookeeper.log"
ZB_LOG="$WORK/zk/broker.log"

scenario_zookeeper_tls() {
  note_log "$ZK_LOG"
  note_log "$ZB_LOG"
  mkdir -p "$WORK/zk/zkdata" "$WORK/zk/data"
  local zkport bport
  zkport=$(free_port)
  bport=$(free_port)
  # An ECDSA CA and leaves, and an O with a comma: principals need escaping.
  run_out zk-init kt init --dir "$ZK_PKI" --key-type ecdsa --ou Kafka --org "Acme, Inc." ||
    fail "kafkatls init --key-type ecdsa failed: $(tail -2 "$WORK/out/zk-init.txt" | tr '\n' ' ')"
  cat >"$WORK/zk/kafkatls.yaml" <<EOF
mode: zookeeper
brokers:
  - name: kafka-1
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $bport
zookeepers:
  - name: zookeeper-1
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $zkport
clients:
  - name: client1
    grants:
      - topic: zk-topic
        producer: true
      - topic: zk-topic
        group: zk-group
        consumer: true
EOF
  run_out zk-bundle kt bundle -f "$WORK/zk/kafkatls.yaml" --dir "$ZK_PKI" ||
    fail "kafkatls bundle (zookeeper mode) failed: $(tail -3 "$WORK/out/zk-bundle.txt" | tr '\n' ' ')"
  local z="$ZK_PKI/certs/zookeeper-1" b="$ZK_PKI/certs/kafka-1" f
  for f in "$z/zoo.cfg" "$z/zookeeper-client.properties" "$b/server.properties" "$ZK_PKI/acls.sh"; do
    [ -f "$f" ] || fail "kafkatls bundle did not write $f"
  done

  # ZooKeeper: kafkatls's zoo.cfg plus the local bits; TLS-only (no clientPort).
  {
    cat "$z/zoo.cfg"
    echo
    echo "# ---- interop/run.sh"
    echo "dataDir=$WORK/zk/zkdata"
    echo "secureClientPortAddress=127.0.0.1"
    echo "admin.enableServer=false"
  } >"$WORK/zk/zoo.cfg"
  grep -q "^secureClientPort=$zkport\$" "$WORK/zk/zoo.cfg" || fail "zoo.cfg: secureClientPort is not the spec port $zkport"
  local zkcp
  if [ -f "${ZOOKEEPER_JAR:-/usr/share/java/zookeeper.jar}" ]; then
    # Debian's zookeeper.jar: its manifest Class-Path lacks netty-codec,
    # netty-resolver and netty-transport-native-unix-common, which the
    # NettyServerCnxnFactory (required for TLS) needs.
    local j
    zkcp="${ZOOKEEPER_JAR:-/usr/share/java/zookeeper.jar}"
    for j in netty-codec netty-resolver netty-transport-native-unix-common slf4j-simple; do
      [ -f "/usr/share/java/$j.jar" ] && zkcp="$zkcp:/usr/share/java/$j.jar"
    done
    ZK_FLAVOUR="ZooKeeper $(unzip -p "${ZOOKEEPER_JAR:-/usr/share/java/zookeeper.jar}" \
      META-INF/maven/org.apache.zookeeper/zookeeper/pom.properties 2>/dev/null | sed -n 's/^version=//p') (${ZOOKEEPER_JAR:-/usr/share/java/zookeeper.jar})"
  else
    zkcp="$K39/*"
    ZK_FLAVOUR="ZooKeeper $(jar_version "$K39" zookeeper) (the Kafka 3.9 jars)"
  fi
  echo "$ZK_FLAVOUR" >"$WORK/zk/flavour"
  start_proc zookeeper "$ZK_LOG" "$JAVA" -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    "-Dlog4j.configuration=file:$WORK/log4j-server.properties" -cp "$zkcp" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zk/zoo.cfg"
  wait_log zookeeper "$ZK_LOG" "bound to port $zkport|binding to port.*:$zkport"

  # Kafka 3.9 broker in ZooKeeper mode: kafkatls's server.properties (with
  # its zookeeper.* TLS client settings) plus the local bits.
  {
    cat "$b/server.properties"
    echo
    echo "# ---- interop/run.sh: node-specific settings"
    echo "broker.id=1"
    echo "listeners=SSL://127.0.0.1:$bport"
    echo "log.dirs=$WORK/zk/data"
    echo "authorizer.class.name=kafka.security.authorizer.AclAuthorizer"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "group.initial.rebalance.delay.ms=0"
    # Generous: a starved CI machine must not expire the session (ZooKeeper's
    # maximum with the default tickTime is 60 s).
    echo "zookeeper.connection.timeout.ms=60000"
    echo "zookeeper.session.timeout.ms=60000"
  } >"$WORK/zk/server.properties"
  grep -q '^zookeeper.ssl.client.enable=true' "$WORK/zk/server.properties" ||
    fail "broker server.properties (zookeeper mode) has no zookeeper.ssl.client.enable=true"
  local zkconnect
  zkconnect=$(props_get "$WORK/zk/server.properties" zookeeper.connect)
  case $zkconnect in localhost:$zkport* | 127.0.0.1:$zkport*) ;; *) fail "zookeeper.connect=$zkconnect does not point at the spec's ZooKeeper localhost:$zkport" ;; esac
  start_proc zk-broker "$ZB_LOG" "$JAVA" "${SERVER_JVM[@]}" -cp "$K39/*" "$K39_KAFKA" "$WORK/zk/server.properties"
  wait_log zk-broker "$ZB_LOG" '\[KafkaServer id=1\] started'
  grep -q "Authenticated Id .* for Scheme 'x509'" "$ZK_LOG" ||
    fail "ZooKeeper did not log an x509 authentication of the broker"
  not_denied "$ZB_LOG" "$b/principal.txt"

  # ZooKeeper CLI with zookeeper-client.properties: the broker registered.
  local chroot=""
  case $zkconnect in */*) chroot="/${zkconnect#*/}" ;; esac
  run_out zk-shell tool "$K39" "$K39_ZKSHELL" -server "${zkconnect%%/*}" \
    -zk-tls-config-file "$z/zookeeper-client.properties" ls "$chroot/brokers/ids" ||
    fail "zookeeper-shell with zookeeper-client.properties failed: $(first_error zk-shell)"
  grep -qF '[1]' "$WORK/out/zk-shell.txt" ||
    fail "zookeeper-shell: broker 1 not in /brokers/ids: $(tail -3 "$WORK/out/zk-shell.txt" | tr '\n' ' ')"

  # ACLs through acls.sh (AclAuthorizer, --producer/--consumer).
  KAFKA_ACLS="$WORK/bin/kafka-acls-39.sh" BOOTSTRAP="localhost:$bport" run_out zk-acls sh "$ZK_PKI/acls.sh" ||
    fail "acls.sh (Kafka 3.9, AclAuthorizer) failed: $(first_error zk-acls)"

  local cfg="$ZK_PKI/certs/client1/client.properties" m1="zk-$RANDOM-1" m2="zk-$RANDOM-2"
  run_out zk-topic-create tool "$K39" "$K39_TOPICS" --bootstrap-server "localhost:$bport" --command-config "$cfg" \
    --create --topic zk-topic --partitions 1 --replication-factor 1 ||
    fail "client1 could not create zk-topic: $(first_error zk-topic-create)"
  printf '%s\n' "$m1" "$m2" | run_out zk-produce tool "$K39" "$K39_PRODUCER" --bootstrap-server "localhost:$bport" \
    --producer.config "$cfg" --topic zk-topic --producer-property max.block.ms=20000 ||
    fail "zk producer exited non-zero: $(first_error zk-produce)"
  grep -qE 'ERROR|Exception' "$WORK/out/zk-produce.txt" && fail "produce to zk-topic failed: $(first_error zk-produce)"
  run_out zk-consume tool "$K39" "$K39_CONSUMER" --bootstrap-server "localhost:$bport" --consumer.config "$cfg" \
    --topic zk-topic --group zk-group --from-beginning --max-messages 2 --timeout-ms 30000 ||
    fail "zk consumer exited non-zero: $(first_error zk-consume)"
  grep -qxF "$m1" "$WORK/out/zk-consume.txt" && grep -qxF "$m2" "$WORK/out/zk-consume.txt" ||
    fail "consume from zk-topic did not return the messages: $(first_error zk-consume)"
  not_denied "$ZB_LOG" "$b/principal.txt"
}

# ---------------------------------------------------------------- run
if [ $want_kraft = 1 ]; then
  run_scenario "kraft-mtls-acls (Kafka $K4_VERSION KRaft, StandardAuthorizer)" scenario_kraft_mtls_acls
  run_scenario "kraft-kcat (kcat $(kcat -V 2>/dev/null | sed -n 's/.*librdkafka \([0-9.]*\).*/librdkafka \1/p' | head -1))" scenario_kraft_kcat
  run_scenario "kraft-hostname-verification (Java client and kcat refuse a name outside the SANs)" scenario_kraft_hostname_verification
  run_scenario "kafkatls-verify (Kafka $K4_VERSION)" scenario_kafkatls_verify
  run_scenario "kraft-store-types (JKS, PEM, PKCS12 broker; JKS/PEM/PKCS12 clients)" scenario_kraft_store_types
  run_scenario "kraft-renew-and-rotation (renew reloaded live with the printed kafka-configs command; CA rotation)" scenario_kraft_live_rotation
  stop_proc kraft-broker
  run_scenario "kraft-split-controller (Kafka $K4_VERSION, separate controller and broker)" scenario_kraft_split_controller
  stop_proc split-broker
  stop_proc split-controller
fi
for p in ${WANTED_PLUGINS[@]+"${WANTED_PLUGINS[@]}"}; do
  IFS='|' read -r p_id _ p_fn p_label <<<"$p"
  ls "$WORK/pids" >"$WORK/scen/pids-before"
  run_scenario "$p_id ($p_label)" "$p_fn"
  # Stop what the scenario left running, so the next one has the memory.
  for f in $(ls "$WORK/pids" | grep -vxF -f "$WORK/scen/pids-before" || true); do stop_proc "$f" 15; done
done
if [ $want_zk = 1 ]; then
  run_scenario "zookeeper-tls (Kafka $K39_VERSION ZooKeeper mode, AclAuthorizer)" scenario_zookeeper_tls
  stop_proc zk-broker
  stop_proc zookeeper
  [ -f "$WORK/zk/flavour" ] && log "ZooKeeper: $(cat "$WORK/zk/flavour")"
fi

log "results: ${RESULTS[*]}"
[ "$FAILED" = 0 ]
