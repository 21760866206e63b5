# shellcheck shell=bash
# Kafka Connect (distributed worker) on kafkatls's connect role: sourced by
# interop/run.sh (see README.md here and docs/interop.md).
#
# `kafkatls bundle -f` with a broker, a Connect worker (connect-1, with a
# FileStreamSource and a FileStreamSink connector in the spec) and an
# operator client (connect-admin). One KRaft broker (mTLS, StandardAuthorizer,
# the bundle's acls.sh run unchanged) and one Connect worker on the generated
# connect-distributed.properties plus node-specific lines only (replication
# factors of 1, a short offset flush interval). Proves:
#   - the worker starts and creates its internal topics as User:CN=connect-1
#     (not a super user: only its ACLs let it);
#   - the REST API answers over HTTPS with the generated connect-rest-curl.sh
#     and an operator's client certificate; without a client certificate, with
#     a certificate from another CA, or over plain HTTP it is refused;
#   - a FileStreamSource created through REST writes a file's lines to a topic
#     and a FileStreamSink writes them back to another file;
#   - with the worker's ACLs removed (`kafkatls acls connect-1 --remove`, run
#     as printed) the worker fails at startup with an authorization error.

CONNECT_MAIN=org.apache.kafka.connect.cli.ConnectDistributed

# cw_rest STEP PATH [curl args...]: the generated curl script as the operator.
cw_rest() {
  local step=$1
  shift
  CLIENT_DIR="$CW_PKI/certs/connect-admin" run_out "$step" timeout 60 sh "$CW_PKI/certs/connect-1/connect-rest-curl.sh" "$@"
}

# cw_start NAME LOG: a Connect worker on $CW_PROPS.
cw_start() {
  start_proc "$1" "$2" "$JAVA" "${SERVER_JVM[@]}" -cp "$KC/*" "$CONNECT_MAIN" "$CW_PROPS"
}

scenario_connect_distributed() {
  command -v curl >/dev/null || fail "curl not installed"
  connect_jars
  local base="$WORK/connect" blog="$WORK/connect/broker.log" wlog="$WORK/connect/worker.log"
  CW_PKI="$base/pki"
  CW_PROPS="$base/connect-distributed.properties"
  mkdir -p "$base/data"
  note_log "$blog"
  note_log "$wlog"
  local bport cport rport
  bport=$(free_port)
  cport=$(free_port)
  rport=$(free_port)
  cat >"$base/kafkatls.yaml" <<EOF
mode: kraft
brokers:
  - name: kafka-1
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $bport
connect:
  - name: connect-1
    hosts: [localhost]
    port: $rport
    connectors:
      - {name: file-source, type: source, topics: [connect-lines]}
      - {name: file-sink, type: sink, topics: [connect-lines]}
clients:
  - name: connect-admin
EOF
  run_out connect-bundle kt bundle -f "$base/kafkatls.yaml" --dir "$CW_PKI" ||
    fail "kafkatls bundle failed: $(tail -3 "$WORK/out/connect-bundle.txt" | tr '\n' ' ')"
  local b="$CW_PKI/certs/kafka-1" w="$CW_PKI/certs/connect-1" f
  for f in "$w/connect-distributed.properties" "$w/connect-rest-curl.sh" "$w/keystore.p12" "$CW_PKI/acls.sh"; do
    [ -f "$f" ] || fail "kafkatls bundle did not write $f"
  done
  grep -q '^| connect-1 | connect |' "$CW_PKI/SUMMARY.md" || fail "SUMMARY.md does not list connect-1 as a connect worker"

  # The broker: the generated snippet plus the node-specific lines, as scenario_kraft_mtls_acls.
  {
    cat "$b/server.properties"
    echo
    echo "# ---- interop/scenarios/connect.sh: node-specific settings"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.bootstrap.servers=localhost:$cport"
    echo "listeners=SSL://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport"
    echo "advertised.listeners=SSL://localhost:$bport,CONTROLLER://localhost:$cport"
    echo "log.dirs=$base/data"
    echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    grep '^super.users=' "$CW_PKI/super-users.properties"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "share.coordinator.state.topic.replication.factor=1"
    echo "share.coordinator.state.topic.min.isr=1"
    echo "group.initial.rebalance.delay.ms=0"
  } >"$base/server.properties"
  local uuid
  uuid=$(tool "$K4" "$K4_STORAGE" random-uuid 2>/dev/null | tail -1)
  run_out connect-format tool "$K4" "$K4_STORAGE" format -t "$uuid" -c "$base/server.properties" --standalone ||
    fail "kafka-storage format rejected the config: $(first_error connect-format)"
  start_proc connect-broker "$blog" "$JAVA" "${SERVER_JVM[@]}" -cp "$K4/*" "$K4_KAFKA" "$base/server.properties"
  wait_log connect-broker "$blog" 'Kafka Server started'

  # acls.sh exactly as written: the worker's topics and group, its connectors'.
  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" BOOTSTRAP="localhost:$bport" run_out connect-acls sh "$CW_PKI/acls.sh" ||
    fail "acls.sh failed: $(first_error connect-acls)"
  grep -q -- '--group connect-file-sink' "$CW_PKI/acls.sh" || fail "acls.sh grants no Read on the sink's group connect-file-sink"

  # The worker: the generated file, then only node-specific lines.
  grep -q '^listeners=https://localhost:'"$rport"'$' "$w/connect-distributed.properties" ||
    fail "connect-distributed.properties has no listeners=https://localhost:$rport"
  {
    cat "$w/connect-distributed.properties"
    echo
    echo "# ---- interop/scenarios/connect.sh: node-specific settings"
    echo "config.storage.replication.factor=1"
    echo "offset.storage.replication.factor=1"
    echo "status.storage.replication.factor=1"
    echo "offset.flush.interval.ms=2000"
  } >"$CW_PROPS"
  cw_start connect-worker "$wlog"
  wait_log connect-worker "$wlog" 'Kafka Connect started'

  # The REST API with the operator's certificate, through the generated script
  # (the worker may still be joining its group: retry until it answers).
  local i
  for ((i = 0; i < WAIT; i += 2)); do
    cw_rest rest-list /connectors && grep -qx '\[\]' "$WORK/out/rest-list.txt" && break
    proc_alive connect-worker || fail "connect-worker exited: $(log_hint "$wlog")"
    sleep 2
  done
  grep -qx '\[\]' "$WORK/out/rest-list.txt" || fail "GET /connectors with the operator's certificate: $(head -c 300 "$WORK/out/rest-list.txt")"

  # Its internal topics exist, created by the worker under its own principal
  # (the only other principal here is the broker, which creates none).
  local topics
  topics=$(find_class "$K4" org.apache.kafka.tools.TopicCommand)
  run_out connect-topics tool "$K4" "$topics" --bootstrap-server "localhost:$bport" --command-config "$b/client.properties" --list ||
    fail "kafka-topics --list failed: $(first_error connect-topics)"
  for f in connect-configs connect-offsets connect-status; do
    grep -qx "$f" "$WORK/out/connect-topics.txt" || fail "internal topic $f was not created: $(tr '\n' ' ' <"$WORK/out/connect-topics.txt")"
  done

  # Refused: no client certificate, a certificate of another CA, plain HTTP.
  # (The TLS alert is asserted: a worker that is down would fail these too.)
  run_out rest-nocert timeout 30 curl --silent --show-error --cacert "$w/ca.crt" "https://localhost:$rport/connectors" &&
    fail "GET /connectors without a client certificate succeeded: $(head -c 200 "$WORK/out/rest-nocert.txt")"
  grep -qiE 'certificate required|handshake failure' "$WORK/out/rest-nocert.txt" ||
    fail "without a client certificate: expected a TLS alert, got: $(head -c 300 "$WORK/out/rest-nocert.txt")"
  run_out other-ca kt --dir "$base/other-pki" init --key-type ecdsa || fail "kafkatls init of a second PKI failed: $(first_error other-ca)"
  run_out other-client kt --dir "$base/other-pki" issue intruder || fail "issue intruder failed: $(first_error other-client)"
  CLIENT_DIR="$base/other-pki/certs/intruder" run_out rest-othercert timeout 30 sh "$w/connect-rest-curl.sh" /connectors &&
    fail "GET /connectors with a certificate from another CA succeeded: $(head -c 200 "$WORK/out/rest-othercert.txt")"
  grep -qiE 'certificate unknown|unknown ca|bad certificate|handshake failure' "$WORK/out/rest-othercert.txt" ||
    fail "with a foreign CA's certificate: expected a TLS alert, got: $(head -c 300 "$WORK/out/rest-othercert.txt")"
  if run_out rest-http timeout 30 curl --silent --show-error "http://localhost:$rport/connectors"; then
    grep -q '^\[' "$WORK/out/rest-http.txt" && fail "the REST API answered plain HTTP"
  fi

  # FileStreamSource -> connect-lines -> FileStreamSink, created through REST.
  local m1="line-$RANDOM-1" m2="line-$RANDOM-2"
  printf '%s\n' "$m1" "$m2" >"$base/in.txt"
  cw_rest rest-source /connectors -X POST -H 'Content-Type: application/json' -d \
    '{"name":"file-source","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","tasks.max":"1","file":"'"$base/in.txt"'","topic":"connect-lines"}}' ||
    fail "POST file-source failed: $(head -c 300 "$WORK/out/rest-source.txt")"
  grep -q '"name":"file-source"' "$WORK/out/rest-source.txt" || fail "POST file-source: $(head -c 300 "$WORK/out/rest-source.txt")"
  cw_rest rest-sink /connectors -X POST -H 'Content-Type: application/json' -d \
    '{"name":"file-sink","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","tasks.max":"1","file":"'"$base/out.txt"'","topics":"connect-lines"}}' ||
    fail "POST file-sink failed: $(head -c 300 "$WORK/out/rest-sink.txt")"
  grep -q '"name":"file-sink"' "$WORK/out/rest-sink.txt" || fail "POST file-sink: $(head -c 300 "$WORK/out/rest-sink.txt")"
  for ((i = 0; i < WAIT; i += 2)); do
    grep -qxF "$m2" "$base/out.txt" 2>/dev/null && break
    proc_alive connect-worker || fail "connect-worker exited: $(log_hint "$wlog")"
    sleep 2
  done
  cw_rest rest-status /connectors/file-sink/status || true
  grep -qxF "$m1" "$base/out.txt" 2>/dev/null && grep -qxF "$m2" "$base/out.txt" ||
    fail "the sink wrote no lines to out.txt within ${WAIT}s (sink status: $(head -c 300 "$WORK/out/rest-status.txt"); $(log_hint "$wlog"))"
  not_denied "$blog" "$w/principal.txt"

  # Without its ACLs the worker cannot start: remove them as kafkatls prints
  # them, and start it again on the same config.
  stop_proc connect-worker 30
  run_out acls-remove kt --dir "$CW_PKI" acls connect-1 --remove --bootstrap "localhost:$bport" --command-config "$b/client.properties" ||
    fail "kafkatls acls connect-1 --remove failed: $(first_error acls-remove)"
  grep -q -- '--remove --force .*--topic connect-configs' "$WORK/out/acls-remove.txt" ||
    fail "kafkatls acls connect-1 --remove printed no removal on connect-configs: $(head -c 300 "$WORK/out/acls-remove.txt")"
  PATH="$WORK/bin:$PATH" run_out acls-removed sh "$WORK/out/acls-remove.txt" ||
    fail "the printed kafka-acls --remove commands failed: $(first_error acls-removed)"
  local wlog2="$base/worker-noacls.log" deadline=$((SECONDS + WAIT))
  note_log "$wlog2"
  cw_start connect-worker-noacls "$wlog2"
  while ((SECONDS < deadline)); do
    grep -qE 'AuthorizationException|Not authorized to access' "$wlog2" && break
    proc_alive connect-worker-noacls || break
    sleep 1
  done
  grep -qE 'AuthorizationException|Not authorized to access' "$wlog2" ||
    fail "without its ACLs the worker logged no authorization error: $(log_hint "$wlog2")"
  grep -qF "Principal = $(cat "$w/principal.txt") is Denied" "$blog" ||
    fail "the broker logged no denial for $(cat "$w/principal.txt")"
  stop_proc connect-worker-noacls 15
}

plugin_scenario connect-distributed connect scenario_connect_distributed "Kafka Connect distributed worker: mTLS + ACLs to the broker, HTTPS REST with client certificates, FileStream source and sink"
