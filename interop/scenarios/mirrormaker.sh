# MirrorMaker 2 (dedicated mode) between two single-node KRaft clusters
# whose PKIs have different CAs, on kafkatls's generated
# connect-mirror-maker.properties and ACLs. Sourced by interop/run.sh; see
# docs/interop.md and docs/mirrormaker.md.

# mm_cluster ALIAS PKI PORT CPORT: a combined broker+controller on the
# generated server.properties of PKI's broker kafka-ALIAS (lower case), plus
# the node-specific settings, StandardAuthorizer and super.users.
mm_cluster() {
  local alias=$1 pki=$2 port=$3 cport=$4 n d uuid
  n=$(echo "$alias" | tr '[:upper:]' '[:lower:]')
  d="$WORK/mm2/cluster-$n"
  mkdir -p "$d/data"
  {
    cat "$pki/certs/kafka-$n/server.properties"
    echo
    echo "# ---- interop/scenarios/mirrormaker.sh: node-specific settings"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.bootstrap.servers=localhost:$cport"
    echo "listeners=SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
    echo "advertised.listeners=SSL://localhost:$port,CONTROLLER://localhost:$cport"
    echo "log.dirs=$d/data"
    echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    grep '^super.users=' "$pki/super-users.properties"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "share.coordinator.state.topic.replication.factor=1"
    echo "share.coordinator.state.topic.min.isr=1"
    echo "group.initial.rebalance.delay.ms=0"
  } >"$d/server.properties"
  uuid=$(tool "$K4" "$K4_STORAGE" random-uuid 2>/dev/null | tail -1)
  run_out "mm2-format-$n" tool "$K4" "$K4_STORAGE" format -t "$uuid" -c "$d/server.properties" --standalone ||
    fail "cluster $alias: kafka-storage format rejected the config: $(first_error "mm2-format-$n")"
  start_proc "mm2-kafka-$n" "$d/broker.log" "$JAVA" "${SERVER_JVM[@]}" -cp "$K4/*" "$K4_KAFKA" "$d/server.properties"
  wait_log "mm2-kafka-$n" "$d/broker.log" 'Kafka Server started'
}

# mm_denied LOG PRINCIPAL [FROM_LINE]: the authorizer's denials of
# PRINCIPAL in LOG (from line FROM_LINE on).
mm_denied() {
  tail -n "+${3:-1}" "$1" 2>/dev/null | grep -F "Principal = $2 is Denied" | sed 's/.*Principal = /Principal = /' | cut -c1-300 | sort -u || true
}

scenario_mirrormaker2() {
  connect_jars
  local mm_class
  mm_class=$(find_class "$KC" org.apache.kafka.connect.mirror.MirrorMaker) || fail "no MirrorMaker class in $KC"
  local w="$WORK/mm2" pa="$WORK/mm2/pki-a" pb="$WORK/mm2/pki-b"
  mkdir -p "$w"
  local PA PAC PB PBC
  PA=$(free_port) PAC=$(free_port) PB=$(free_port) PBC=$(free_port)
  note_log "$w/cluster-a/broker.log"
  note_log "$w/cluster-b/broker.log"
  note_log "$w/mm2.log"

  # Two PKIs, two CAs. Cluster A: its mirrormaker identity from the bundle
  # spec (mirrormakers:), a producer. Cluster B: its mirrormaker identity
  # from `kafkatls issue`, a consumer of the replicated topic A.orders.
  run_out mm2-init-a kt --dir "$pa" init --cn "Cluster A CA" || fail "init A: $(first_error mm2-init-a)"
  run_out mm2-init-b kt --dir "$pb" init --cn "Cluster B CA" || fail "init B: $(first_error mm2-init-b)"
  cat >"$w/a.yaml" <<EOF
mode: kraft
brokers:
  - name: kafka-a
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $PA
clients:
  - name: producer-a
    grants:
      - topic: orders
        producer: true
mirrormakers:
  - name: mm2
    clusterAlias: A
EOF
  cat >"$w/b.yaml" <<EOF
mode: kraft
brokers:
  - name: kafka-b
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $PB
clients:
  - name: consumer-b
    grants:
      - topic: A.orders
        group: check-b
        consumer: true
EOF
  run_out mm2-bundle-a kt bundle -f "$w/a.yaml" --dir "$pa" || fail "bundle A: $(tail -3 "$WORK/out/mm2-bundle-a.txt" | tr '\n' ' ')"
  run_out mm2-bundle-b kt bundle -f "$w/b.yaml" --dir "$pb" || fail "bundle B: $(tail -3 "$WORK/out/mm2-bundle-b.txt" | tr '\n' ' ')"
  run_out mm2-issue-b kt --dir "$pb" issue mm2 --role mirrormaker --cluster-alias B --cluster-bootstrap "localhost:$PB" ||
    fail "issue mm2 in PKI B: $(first_error mm2-issue-b)"
  cmp -s "$pa/ca/ca.crt" "$pb/ca/ca.crt" && fail "the two PKIs share a CA certificate; the scenario needs two"
  grep -q "^A.bootstrap.servers=localhost:$PA\$" "$pa/certs/mm2/mirrormaker-cluster.properties" ||
    fail "the bundle's mirrormaker-cluster.properties lacks A.bootstrap.servers=localhost:$PA"

  # The combined file and each cluster's ACL script.
  run_out mm2-config kt mirrormaker config --source "$pa/certs/mm2" --target "$pb/certs/mm2" --topics orders --out "$w/out" ||
    fail "kafkatls mirrormaker config: $(cat "$WORK/out/mm2-config.txt" | head -3 | tr '\n' ' ')"
  local gen="$w/out/connect-mirror-maker.properties"
  for f in "$gen" "$w/out/acls-A.sh" "$w/out/acls-B.sh"; do [ -f "$f" ] || fail "mirrormaker config did not write $f"; done
  grep -q 'same CA' "$gen" && fail "$gen says the clusters share a CA"
  [ "$(props_get "$gen" A.ssl.truststore.location)" = "$pa/certs/mm2/truststore.p12" ] &&
    [ "$(props_get "$gen" B.ssl.truststore.location)" = "$pb/certs/mm2/truststore.p12" ] ||
    fail "each cluster's truststore must be its own PKI's: A=$(props_get "$gen" A.ssl.truststore.location) B=$(props_get "$gen" B.ssl.truststore.location)"

  mm_cluster A "$pa" "$PA" "$PAC"
  mm_cluster B "$pb" "$PB" "$PBC"

  # Without its ACLs, MirrorMaker's identity is refused on A: a consumer on
  # its settings (mirrormaker-cluster.properties without the A. prefix)
  # reading orders is denied, and the denial check below sees it.
  sed -n 's/^A\.//p' "$pa/certs/mm2/mirrormaker-cluster.properties" >"$w/mm2-as-client-a.properties"
  run_out mm2-noacl tool "$K4" "$K4_CONSUMER" --bootstrap-server "localhost:$PA" "$K4_CCFG" "$w/mm2-as-client-a.properties" \
    --topic orders --partition 0 --offset earliest --max-messages 1 --timeout-ms 10000 || true
  sleep 1
  [ -n "$(mm_denied "$w/cluster-a/broker.log" "$(cat "$pa/certs/mm2/principal.txt")")" ] ||
    fail "before its ACLs, MirrorMaker's identity was not denied on A (the denial check would miss denials): $(first_error mm2-noacl)"

  # ACLs: each bundle's acls.sh (its clients, and on A the mirrormaker's
  # default grants), then acls-A.sh on A and acls-B.sh on B, as written.
  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" run_out mm2-acls-bundle-a sh "$pa/acls.sh" || fail "PKI A's acls.sh: $(first_error mm2-acls-bundle-a)"
  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" run_out mm2-acls-bundle-b sh "$pb/acls.sh" || fail "PKI B's acls.sh: $(first_error mm2-acls-bundle-b)"
  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" run_out mm2-acls-a sh "$w/out/acls-A.sh" || fail "acls-A.sh on cluster A: $(first_error mm2-acls-a)"
  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" run_out mm2-acls-b sh "$w/out/acls-B.sh" || fail "acls-B.sh on cluster B: $(first_error mm2-acls-b)"

  # Records on A before MirrorMaker starts.
  local m1="mm2-$RANDOM-1" m2="mm2-$RANDOM-2" m3="mm2-$RANDOM-3"
  printf '%s\n' "$m1" "$m2" "$m3" | run_out mm2-produce-a tool "$K4" "$K4_PRODUCER" --bootstrap-server "localhost:$PA" \
    "$K4_PCFG" "$pa/certs/producer-a/client.properties" --topic orders "$K4_PPROP" max.block.ms=20000 \
    "$K4_PPROP" delivery.timeout.ms=30000 "$K4_PPROP" request.timeout.ms=20000 ||
    fail "producer-a exited non-zero: $(first_error mm2-produce-a)"
  grep -qE 'ERROR|Exception' "$WORK/out/mm2-produce-a.txt" && fail "produce to orders on A failed: $(first_error mm2-produce-a)"

  # MirrorMaker 2 on the generated file plus the node-specific lines: the
  # replication factors of its internal topics uncommented for these
  # single-broker clusters, and shorter refresh intervals (default 600 s).
  {
    cat "$gen"
    echo
    echo "# ---- interop/scenarios/mirrormaker.sh: single-broker clusters"
    sed -n 's/^#\(\(replication\.factor\|[a-z.-]*\.replication\.factor\)=1\)$/\1/p' "$gen"
    echo "refresh.topics.interval.seconds=5"
    echo "refresh.groups.interval.seconds=5"
    echo "emit.checkpoints.interval.seconds=5"
  } >"$w/mm2.properties"
  [ "$(grep -c 'replication.factor=1$' "$w/mm2.properties")" -ge 14 ] ||
    fail "the generated file no longer carries the commented single-broker replication factors"
  local from_a from_b
  from_a=$(($(wc -l <"$w/cluster-a/broker.log") + 1))
  from_b=$(($(wc -l <"$w/cluster-b/broker.log") + 1))
  start_proc mm2 "$w/mm2.log" "$JAVA" "${SERVER_JVM[@]}" -cp "$KC/*" "$mm_class" "$w/mm2.properties"

  # A.orders on B, read by B's own client (bounded: MirrorMaker takes
  # 30-60 s to start its herders and connectors).
  local deadline=$((SECONDS + 180)) got=0 i=0
  while ((SECONDS < deadline)); do
    proc_alive mm2 || fail "MirrorMaker exited: $(log_hint "$w/mm2.log")"
    i=$((i + 1))
    run_out "mm2-consume-b-$i" tool "$K4" "$K4_CONSUMER" --bootstrap-server "localhost:$PB" \
      "$K4_CCFG" "$pb/certs/consumer-b/client.properties" --topic A.orders --group check-b \
      --from-beginning --max-messages 3 --timeout-ms 15000 || true
    # The group resumes where an earlier attempt stopped: count every attempt's records.
    cat "$WORK/out/mm2-consume-b-$i.txt" >>"$w/consumed.txt"
    if grep -qxF "$m1" "$w/consumed.txt" && grep -qxF "$m2" "$w/consumed.txt" && grep -qxF "$m3" "$w/consumed.txt"; then
      got=1
      break
    fi
    sleep 3
  done
  [ "$got" = 1 ] || fail "A.orders on B did not deliver the 3 records within 180 s: $(first_error "mm2-consume-b-$i") / $(log_hint "$w/mm2.log")"
  log "mm2: A.orders replicated to B after $i consumer attempt(s)"

  # Every topic MirrorMaker needed was granted: neither cluster denied its principal.
  local p denied
  p=$(cat "$pa/certs/mm2/principal.txt")
  denied=$(mm_denied "$w/cluster-a/broker.log" "$p" "$from_a")
  [ -z "$denied" ] || fail "cluster A denied MirrorMaker: $(echo "$denied" | head -3 | tr '\n' ' ')"
  p=$(cat "$pb/certs/mm2/principal.txt")
  denied=$(mm_denied "$w/cluster-b/broker.log" "$p" "$from_b")
  [ -z "$denied" ] || fail "cluster B denied MirrorMaker: $(echo "$denied" | head -3 | tr '\n' ' ')"
}

plugin_scenario mirrormaker2 connect scenario_mirrormaker2 "MirrorMaker 2 between two KRaft clusters with two CAs, generated config and ACLs"
