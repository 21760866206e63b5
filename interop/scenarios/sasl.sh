# SASL_SSL beside mutual TLS on one real Kafka 4 KRaft node (docs/sasl.md):
# SCRAM-SHA-512 with the credentials scram.sh creates, and OAUTHBEARER with
# tokens kafkatls mints, each with ACL allow and deny by the principal in
# principal.txt and a refused bad credential.

plugin_scenario sasl-scram sasl scenario_sasl_scram "SASL_SSL/SCRAM-SHA-512 on Kafka 4 KRaft: scram.sh format and alter, ACLs by User:NAME, wrong password refused"
plugin_scenario sasl-oauthbearer sasl scenario_sasl_oauthbearer "SASL_SSL/OAUTHBEARER on Kafka 4 KRaft with kafkatls-minted JWTs: JWKS file, allow-list, ACLs by sub, expired token refused"
plugin_scenario sasl-testbroker sasl scenario_sasl_testbroker "Kafka 4 Java console clients on kafkatls broker --sasl (SCRAM-SHA-512, OAUTHBEARER) with the generated client.properties: ACLs by SASL principal, wrong password refused"

# sasl_opts FILE: the KAFKA_OPTS value a generated config's comment gives
# ("#   KAFKA_OPTS='-D...'"), unquoted; empty if it names none.
sasl_opts() {
  sed -n "s/^#   KAFKA_OPTS='\(.*\)'\$/\1/p" "$1" | head -1
}

# sasl_client STEP CONFIG JVM_OPT MODE TOPIC [MSG...]: a Kafka 4 console
# producer (MODE produce) or consumer (MODE consume, MSG is the group, then
# the count) on the SASL_SSL listener, with the client config verbatim and
# JVM_OPT (the allow-list, or "") as KAFKA_OPTS would give it.
sasl_client() {
  local step=$1 cfg=$2 opt=$3 mode=$4 topic=$5
  shift 5
  local jvm=("${TOOL_JVM[@]}")
  [ -n "$opt" ] && jvm+=("$opt")
  if [ "$mode" = produce ]; then
    printf '%s\n' "$@" | run_out "$step" timeout 120 "$JAVA" "${jvm[@]}" -cp "$K4/*" "$K4_PRODUCER" \
      --bootstrap-server "localhost:$SASL_PORT" "$K4_PCFG" "$cfg" --topic "$topic" "$K4_PPROP" max.block.ms=20000 \
      "$K4_PPROP" delivery.timeout.ms=30000 "$K4_PPROP" request.timeout.ms=20000
  else
    run_out "$step" timeout 120 "$JAVA" "${jvm[@]}" -cp "$K4/*" "$K4_CONSUMER" \
      --bootstrap-server "localhost:$SASL_PORT" "$K4_CCFG" "$cfg" --topic "$topic" --group "$1" \
      --from-beginning --max-messages "$2" --timeout-ms 30000
  fi
}

# sasl_roundtrip LABEL CONFIG JVM_OPT: produce two messages to sasl-topic and
# read them back.
sasl_roundtrip() {
  local label=$1 cfg=$2 opt=$3 m1="$1-$RANDOM-1" m2="$1-$RANDOM-2"
  sasl_client "produce-$label" "$cfg" "$opt" produce sasl-topic "$m1" "$m2" ||
    fail "$label: producer exited non-zero: $(first_error "produce-$label")"
  if grep -qE 'ERROR|Exception' "$WORK/out/produce-$label.txt"; then
    fail "$label: produce failed: $(first_error "produce-$label")"
  fi
  SASL_COUNT=$((${SASL_COUNT:-0} + 2))
  sasl_client "consume-$label" "$cfg" "$opt" consume sasl-topic "grp-$label-$RANDOM" "$SASL_COUNT" ||
    fail "$label: consumer exited non-zero: $(first_error "consume-$label")"
  grep -qxF "$m1" "$WORK/out/consume-$label.txt" && grep -qxF "$m2" "$WORK/out/consume-$label.txt" ||
    fail "$label: consumed $(grep -c . "$WORK/out/consume-$label.txt") lines without its messages: $(first_error "consume-$label")"
}

# sasl_refused STEP CONFIG JVM_OPT REGEX WHAT: a producer that must fail with REGEX.
sasl_refused() {
  sasl_client "$1" "$2" "$3" produce sasl-topic "should-not-arrive-$RANDOM" || true
  grep -qE "$4" "$WORK/out/$1.txt" || fail "$5: expected /$4/, got: $(first_error "$1")"
}

# kafkajs_dir: KafkaJS from npm (pinned), installed once into the cache.
KAFKAJS_VERSION=2.2.4
kafkajs_dir() {
  local d="$CACHE/npm/kafkajs-$KAFKAJS_VERSION"
  if [ ! -f "$d/.complete" ]; then
    command -v npm >/dev/null || fail "npm not found (KafkaJS)"
    rm -rf "$d"
    mkdir -p "$d"
    timeout 300 npm install --no-audit --no-fund --prefix "$d" "kafkajs@$KAFKAJS_VERSION" >"$WORK/out/npm-kafkajs.txt" 2>&1 ||
      fail "npm install kafkajs@$KAFKAJS_VERSION failed: $(tail -2 "$WORK/out/npm-kafkajs.txt" | tr '\n' ' ')"
    touch "$d/.complete"
  fi
  echo "$d/node_modules"
}

# sasl_kafkajs STEP CLIENT_DIR MSG: KafkaJS produces MSG to sasl-topic on
# the SASL_SSL listener with the client's generated kafkajs-ssl.js, used as
# its comment says ({ssl, sasl}).
sasl_kafkajs() {
  local step=$1 cdir=$2 msg=$3 mods
  mods=$(kafkajs_dir)
  cat >"$WORK/kafkajs-produce.js" <<'JS'
const { Kafka, logLevel } = require('kafkajs')
const [cfgFile, broker, topic, msg] = process.argv.slice(2)
const cfg = require(cfgFile)
const kafka = new Kafka({ clientId: 'interop', brokers: [broker], ssl: cfg.ssl, sasl: cfg.sasl,
  logLevel: logLevel.ERROR, connectionTimeout: 10000, retry: { retries: 2 } })
;(async () => {
  const p = kafka.producer()
  await p.connect()
  await p.send({ topic, messages: [{ value: msg }] })
  await p.disconnect()
  console.log('produced ' + msg)
})().catch((e) => { console.error('KafkaJS error: ' + e.name + ': ' + e.message); process.exit(1) })
JS
  NODE_PATH="$mods" run_out "$step" timeout 120 node "$WORK/kafkajs-produce.js" "$cdir/kafkajs-ssl.js" \
    "localhost:$SASL_PORT" sasl-topic "$msg"
}

# confluent_python: a Python with confluent-kafka from PyPI (pinned; its
# wheel bundles a librdkafka newer than Debian's 2.0.2), made once in the cache.
CONFLUENT_KAFKA_VERSION=2.16.1
confluent_python() {
  local d="$CACHE/pyenv/confluent-kafka-$CONFLUENT_KAFKA_VERSION"
  if [ ! -f "$d/.complete" ]; then
    rm -rf "$d"
    python3 -m venv "$d" >"$WORK/out/venv-confluent.txt" 2>&1 || fail "python3 -m venv failed (python3-venv missing?)"
    timeout 300 "$d/bin/pip" install -q "confluent-kafka==$CONFLUENT_KAFKA_VERSION" >>"$WORK/out/venv-confluent.txt" 2>&1 ||
      fail "pip install confluent-kafka==$CONFLUENT_KAFKA_VERSION failed: $(tail -2 "$WORK/out/venv-confluent.txt" | tr '\n' ' ')"
    touch "$d/.complete"
  fi
  echo "$d/bin/python"
}

# sasl_confluent STEP KCAT_CONF MSG: confluent-kafka (librdkafka) produces
# MSG to sasl-topic with the keys of the generated kcat.conf, verbatim but
# for bootstrap.servers (the scenario's SASL_SSL port).
sasl_confluent() {
  local step=$1 conf=$2 msg=$3 py
  py=$(confluent_python)
  cat >"$WORK/confluent-produce.py" <<'PY'
import sys
from confluent_kafka import Producer
conf_file, broker, topic, msg = sys.argv[1:5]
conf = {}
for line in open(conf_file):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    k, v = line.split("=", 1)
    conf[k] = v
conf["bootstrap.servers"] = broker
errors = []
p = Producer(conf)
p.produce(topic, msg.encode(), on_delivery=lambda err, m: errors.append(err) if err else None)
left = p.flush(30)
if left or errors:
    print("confluent-kafka error: %s (%d not delivered)" % (errors, left))
    sys.exit(1)
print("produced " + msg)
PY
  run_out "$step" timeout 120 "$py" "$WORK/confluent-produce.py" "$conf" "localhost:$SASL_PORT" sasl-topic "$msg"
}

# sasl_cluster DIR MECHANISMS CLIENTS_YAML: a bundle with a SASL_SSL listener
# (sasl.mechanisms MECHANISMS, e.g. "[scram-sha-512]") and the given
# clients; writes DIR/server.properties (the generated broker config plus
# the node-specific lines) and sets SSL_PORT, SASL_PORT, CTRL_PORT, SASL_PKI.
sasl_cluster() {
  local dir=$1 mechs=$2 clients=$3
  SSL_PORT=$(free_port)
  SASL_PORT=$(free_port)
  CTRL_PORT=$(free_port)
  SASL_PKI="$dir/pki"
  mkdir -p "$dir/data"
  cat >"$dir/kafkatls.yaml" <<YAML
mode: kraft
sasl:
  mechanisms: $mechs
  port: $SASL_PORT
brokers:
  - name: kafka-1
    hosts: [localhost]
    ips: [127.0.0.1]
    port: $SSL_PORT
clients:
$clients
YAML
  run_out "$(basename "$dir")-bundle" kt bundle -f "$dir/kafkatls.yaml" --dir "$SASL_PKI" ||
    fail "kafkatls bundle failed: $(tail -3 "$WORK/out/$(basename "$dir")-bundle.txt" | tr '\n' ' ')"
  local b="$SASL_PKI/certs/kafka-1"
  grep -q "^listener.name.sasl_ssl.sasl.enabled.mechanisms=" "$b/server.properties" ||
    fail "the broker's server.properties has no SASL_SSL listener settings"
  grep -q "^advertised.listeners=SSL://localhost:$SSL_PORT,SASL_SSL://localhost:$SASL_PORT\$" "$b/server.properties" ||
    fail "advertised.listeners is not SSL://localhost:$SSL_PORT,SASL_SSL://localhost:$SASL_PORT: $(props_get "$b/server.properties" advertised.listeners)"
  {
    cat "$b/server.properties"
    echo
    echo "# ---- interop/scenarios/sasl.sh: node-specific settings"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.bootstrap.servers=localhost:$CTRL_PORT"
    echo "listeners=SSL://127.0.0.1:$SSL_PORT,SASL_SSL://127.0.0.1:$SASL_PORT,CONTROLLER://127.0.0.1:$CTRL_PORT"
    echo "advertised.listeners=SSL://localhost:$SSL_PORT,SASL_SSL://localhost:$SASL_PORT,CONTROLLER://localhost:$CTRL_PORT"
    echo "log.dirs=$dir/data"
    echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    grep '^super.users=' "$SASL_PKI/super-users.properties"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "share.coordinator.state.topic.replication.factor=1"
    echo "share.coordinator.state.topic.min.isr=1"
    echo "group.initial.rebalance.delay.ms=0"
  } >"$dir/server.properties"
}

# sasl_start DIR NAME JVM_OPT: the broker on DIR/server.properties.
sasl_start() {
  local jvm=("${SERVER_JVM[@]}")
  [ -n "$3" ] && jvm+=("$3")
  note_log "$1/broker.log"
  start_proc "$2" "$1/broker.log" "$JAVA" "${jvm[@]}" -cp "$K4/*" "$K4_KAFKA" "$1/server.properties"
  wait_log "$2" "$1/broker.log" 'Kafka Server started'
}

scenario_sasl_scram() {
  local dir="$WORK/sasl-scram" uuid
  sasl_cluster "$dir" "[scram-sha-512]" '  - name: alice
    auth: scram-sha-512
    grants:
      - topic: sasl-topic
        operations: [Read, Write, Create]
      - group: "*"
        operations: [Read]
  - name: mallory
    auth: scram-sha-512'
  local a="$SASL_PKI/certs/alice"
  [ -f "$SASL_PKI/scram.sh" ] || fail "kafkatls bundle wrote no scram.sh"
  [ "$(stat -c %a "$a/scram-password")" = 600 ] || fail "alice/scram-password is mode $(stat -c %a "$a/scram-password"), want 600"
  [ "$(cat "$a/principal.txt")" = "User:alice" ] || fail "alice/principal.txt is '$(cat "$a/principal.txt")', want User:alice"
  if grep -qF "$(cat "$a/scram-password")" "$SASL_PKI/scram.sh"; then fail "scram.sh embeds a password"; fi

  # KRaft bootstrap: the SCRAM credentials exist before the first start,
  # created by scram.sh format (kafka-storage format --add-scram).
  write_acls_wrapper "$WORK/bin/kafka-storage.sh" "$K4" "$K4_STORAGE"
  uuid=$(tool "$K4" "$K4_STORAGE" random-uuid 2>/dev/null | tail -1)
  KAFKA_STORAGE="$WORK/bin/kafka-storage.sh" run_out sasl-scram-format sh "$SASL_PKI/scram.sh" format \
    -t "$uuid" -c "$dir/server.properties" --standalone ||
    fail "scram.sh format (kafka-storage format --add-scram) failed: $(first_error sasl-scram-format)"
  sasl_start "$dir" sasl-scram-broker ""

  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" BOOTSTRAP="localhost:$SSL_PORT" run_out sasl-scram-acls sh "$SASL_PKI/acls.sh" ||
    fail "acls.sh failed: $(first_error sasl-scram-acls)"
  run_out sasl-scram-acl-list "$WORK/bin/kafka-acls.sh" --bootstrap-server "localhost:$SSL_PORT" \
    --command-config "$SASL_PKI/certs/kafka-1/client.properties" --list || fail "kafka-acls --list failed"
  grep -qF "principal=User:alice, host=*, operation=WRITE" "$WORK/out/sasl-scram-acl-list.txt" ||
    fail "no WRITE ACL for User:alice after acls.sh"

  # alice: produce and consume over SASL_SSL with her generated client.properties.
  sasl_roundtrip alice "$a/client.properties" ""
  grep -q "^sasl.mechanism=SCRAM-SHA-512\$" "$a/client.properties" || fail "alice's client.properties does not use SCRAM-SHA-512"
  run_out sasl-verify-alice kt verify --dir "$SASL_PKI" --bootstrap "localhost:$SASL_PORT" --client alice --topic sasl-topic ||
    fail "kafkatls verify --bootstrap (alice, SCRAM) failed against Kafka: $(grep -m1 FAIL "$WORK/out/sasl-verify-alice.txt")"
  # KafkaJS with alice's generated kafkajs-ssl.js (SCRAM password read from
  # her scram-password file); the Java consumer reads the message back.
  local jsmsg="kafkajs-alice-$RANDOM"
  sasl_kafkajs kafkajs-alice "$a" "$jsmsg" || fail "KafkaJS (SCRAM) could not produce: $(grep -m1 'KafkaJS error' "$WORK/out/kafkajs-alice.txt")"
  SASL_COUNT=$((SASL_COUNT + 1))
  sasl_client consume-kafkajs-alice "$a/client.properties" "" consume sasl-topic "grp-js-$RANDOM" "$SASL_COUNT" ||
    fail "consuming KafkaJS's message failed: $(first_error consume-kafkajs-alice)"
  grep -qxF "$jsmsg" "$WORK/out/consume-kafkajs-alice.txt" || fail "KafkaJS's message did not arrive"
  # confluent-kafka (librdkafka 2.16) with alice's generated kcat.conf keys.
  local pymsg="confluent-alice-$RANDOM"
  sasl_confluent confluent-alice "$a/kcat.conf" "$pymsg" ||
    fail "confluent-kafka (SCRAM, kcat.conf keys) could not produce: $(grep -m1 -E 'error|Error' "$WORK/out/confluent-alice.txt" | cut -c1-300)"
  SASL_COUNT=$((SASL_COUNT + 1))
  sasl_client consume-confluent-alice "$a/client.properties" "" consume sasl-topic "grp-py-$RANDOM" "$SASL_COUNT" ||
    fail "consuming confluent-kafka's message failed: $(first_error consume-confluent-alice)"
  grep -qxF "$pymsg" "$WORK/out/consume-confluent-alice.txt" || fail "confluent-kafka's message did not arrive"
  # mallory authenticates (SCRAM) but has no grant: denied by principal.
  sasl_refused sasl-mallory "$SASL_PKI/certs/mallory/client.properties" "" \
    'TopicAuthorizationException|TOPIC_AUTHORIZATION_FAILED' "mallory (no grants) on sasl-topic"
  grep -qF "Principal = User:mallory is Denied" "$dir/broker.log" ||
    fail "the broker log shows no denial for User:mallory"
  # A wrong password: refused at authentication.
  sed 's/password="[^"]*"/password="wrong-password-1"/' "$a/client.properties" >"$dir/wrong.properties"
  grep -q 'wrong-password-1' "$dir/wrong.properties" || fail "could not make a wrong-password config"
  sasl_refused sasl-wrong-pw "$dir/wrong.properties" "" \
    'SaslAuthenticationException.*(invalid credentials|Authentication failed)' "alice with a wrong password"

  # A running cluster: a client added later gets its credential from
  # scram.sh alter (kafka-configs --alter --add-config-file).
  cat >>"$dir/kafkatls.yaml" <<'YAML'
  - name: carol
    auth: scram-sha-512
    grants:
      - topic: sasl-topic
        operations: [Read, Write]
      - group: "*"
        operations: [Read]
YAML
  run_out sasl-scram-bundle2 kt bundle -f "$dir/kafkatls.yaml" --dir "$SASL_PKI" ||
    fail "kafkatls bundle (adding carol) failed: $(first_error sasl-scram-bundle2)"
  sasl_refused sasl-carol-before "$SASL_PKI/certs/carol/client.properties" "" \
    'SaslAuthenticationException' "carol before scram.sh alter"
  ! run_out sasl-verify-carol-before kt verify --dir "$SASL_PKI" --bootstrap "localhost:$SASL_PORT" --client carol &&
    grep -qF 'has no SCRAM-SHA-512 credential for "carol"' "$WORK/out/sasl-verify-carol-before.txt" ||
    fail "kafkatls verify --bootstrap did not diagnose carol's missing credential: $(grep -m1 FAIL "$WORK/out/sasl-verify-carol-before.txt")"
  KAFKA_CONFIGS="$WORK/bin/kafka-configs.sh" BOOTSTRAP="localhost:$SSL_PORT" run_out sasl-scram-alter sh "$SASL_PKI/scram.sh" alter ||
    fail "scram.sh alter (kafka-configs --add-config-file) failed: $(first_error sasl-scram-alter)"
  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" BOOTSTRAP="localhost:$SSL_PORT" run_out sasl-scram-acls2 sh "$SASL_PKI/acls.sh" ||
    fail "acls.sh (with carol) failed: $(first_error sasl-scram-acls2)"
  sasl_roundtrip carol "$SASL_PKI/certs/carol/client.properties" ""
  not_denied "$dir/broker.log" "$SASL_PKI/certs/kafka-1/principal.txt"
}

scenario_sasl_oauthbearer() {
  local dir="$WORK/sasl-oauth" uuid
  mkdir -p "$dir"
  run_out sasl-oauth-init kt oauth init --dir "$dir/pki" || fail "kafkatls oauth init failed: $(first_error sasl-oauth-init)"
  sasl_cluster "$dir" "[oauthbearer]" '  - name: bob
    auth: oauthbearer
    grants:
      - topic: sasl-topic
        operations: [Read, Write, Create]
      - group: "*"
        operations: [Read]
  - name: eve
    auth: oauthbearer'
  local b="$SASL_PKI/certs/bob" broker_opt bob_opt
  [ "$(stat -c %a "$b/token.jwt")" = 600 ] || fail "bob/token.jwt is mode $(stat -c %a "$b/token.jwt"), want 600"
  [ "$(stat -c %a "$SASL_PKI/oauth/signing.key")" = 600 ] || fail "oauth/signing.key is not mode 600"
  [ "$(cat "$b/principal.txt")" = "User:bob" ] || fail "bob/principal.txt is '$(cat "$b/principal.txt")', want User:bob"
  broker_opt=$(sasl_opts "$SASL_PKI/certs/kafka-1/server.properties")
  bob_opt=$(sasl_opts "$b/client.properties")
  [ -n "$broker_opt" ] && [ -n "$bob_opt" ] || fail "the generated configs name no KAFKA_OPTS allow-list"

  uuid=$(tool "$K4" "$K4_STORAGE" random-uuid 2>/dev/null | tail -1)
  run_out sasl-oauth-format tool "$K4" "$K4_STORAGE" format -t "$uuid" -c "$dir/server.properties" --standalone ||
    fail "kafka-storage format rejected the config: $(first_error sasl-oauth-format)"
  sasl_start "$dir" sasl-oauth-broker "$broker_opt"

  KAFKA_ACLS="$WORK/bin/kafka-acls.sh" BOOTSTRAP="localhost:$SSL_PORT" run_out sasl-oauth-acls sh "$SASL_PKI/acls.sh" ||
    fail "acls.sh failed: $(first_error sasl-oauth-acls)"

  # bob: a token minted by kafkatls, validated by Kafka's own validator
  # against the JWKS file; the token's sub is the principal.
  sasl_roundtrip bob "$b/client.properties" "$bob_opt"
  run_out sasl-verify-bob kt verify --dir "$SASL_PKI" --bootstrap "localhost:$SASL_PORT" --client bob --topic sasl-topic ||
    fail "kafkatls verify --bootstrap (bob, OAUTHBEARER) failed against Kafka: $(grep -m1 FAIL "$WORK/out/sasl-verify-bob.txt")"
  # KafkaJS with bob's generated kafkajs-ssl.js (oauthBearerProvider reads token.jwt).
  local jsmsg="kafkajs-bob-$RANDOM"
  sasl_kafkajs kafkajs-bob "$b" "$jsmsg" || fail "KafkaJS (OAUTHBEARER) could not produce: $(grep -m1 'KafkaJS error' "$WORK/out/kafkajs-bob.txt")"
  SASL_COUNT=$((SASL_COUNT + 1))
  sasl_client consume-kafkajs-bob "$b/client.properties" "$bob_opt" consume sasl-topic "grp-js-$RANDOM" "$SASL_COUNT" ||
    fail "consuming KafkaJS's message failed: $(first_error consume-kafkajs-bob)"
  grep -qxF "$jsmsg" "$WORK/out/consume-kafkajs-bob.txt" || fail "KafkaJS's message did not arrive"
  # eve: a valid token, no grants: denied by principal.
  sasl_refused sasl-eve "$SASL_PKI/certs/eve/client.properties" "$(sasl_opts "$SASL_PKI/certs/eve/client.properties")" \
    'TopicAuthorizationException|TOPIC_AUTHORIZATION_FAILED' "eve (no grants) on sasl-topic"
  grep -qF "Principal = User:eve is Denied" "$dir/broker.log" || fail "the broker log shows no denial for User:eve"
  # The allow-list is an exact string match: file:// for the same file is refused.
  sasl_refused sasl-allowlist "$b/client.properties" "$(sed 's|=file:/|=file:///|' <<<"$bob_opt")" \
    'not allowed|allowed.urls' "bob with the allow-list spelled file:///"
  # An expired token (issued two hours ago for one hour): refused.
  run_out sasl-token-expired kt token bob --dir "$SASL_PKI" --ttl 1h \
    --issued-at "$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)" || fail "kafkatls token --issued-at failed: $(first_error sasl-token-expired)"
  sasl_refused sasl-expired "$b/client.properties" "$bob_opt" \
    'failed authentication due to: \{"status":"invalid_token"\}' "bob with an expired token"
  ! run_out sasl-verify-expired kt verify --dir "$SASL_PKI" --bootstrap "localhost:$SASL_PORT" --client bob &&
    grep -qF 'the token expired at' "$WORK/out/sasl-verify-expired.txt" ||
    fail "kafkatls verify --bootstrap did not diagnose bob's expired token: $(grep -m1 FAIL "$WORK/out/sasl-verify-expired.txt")"
  # A token for sub bob signed by another issuer's key (its kid is not in
  # the broker's JWKS): refused.
  run_out sasl-other-init kt oauth init --dir "$dir/other" || fail "a second oauth init failed"
  mkdir -p "$dir/other/certs/bob"
  cp "$b/auth.txt" "$dir/other/certs/bob/"
  run_out sasl-other-token kt token bob --dir "$dir/other" || fail "minting with the other issuer failed"
  local forged="$dir/other/certs/bob/token.jwt"
  sed "s|^sasl.oauthbearer.token.endpoint.url=.*|sasl.oauthbearer.token.endpoint.url=file:$forged|" "$b/client.properties" >"$dir/forged.properties"
  sasl_refused sasl-forged "$dir/forged.properties" "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=file:$forged" \
    'failed authentication due to: \{"status":"invalid_token"\}' "bob with a token signed by another key"
  run_out sasl-token-fresh kt token bob --dir "$SASL_PKI" || fail "kafkatls token failed: $(first_error sasl-token-fresh)"
  sasl_roundtrip bob-fresh "$b/client.properties" "$bob_opt"

  # Key rotation on the running broker: oauth init --force keeps the old
  # public key in the JWKS, which Kafka 4.3 re-reads when the file changes:
  # a token of the old key and one of the new key are both accepted.
  local oldtok="$dir/old-token.jwt"
  cp "$b/token.jwt" "$oldtok"
  sed "s|^sasl.oauthbearer.token.endpoint.url=.*|sasl.oauthbearer.token.endpoint.url=file:$oldtok|" "$b/client.properties" >"$dir/old.properties"
  run_out sasl-rotate kt oauth init --force --dir "$SASL_PKI" || fail "oauth init --force failed: $(first_error sasl-rotate)"
  [ "$(grep -c '"kid"' "$SASL_PKI/oauth/jwks.json")" = 2 ] || fail "the JWKS after a rotation does not hold two keys"
  run_out sasl-token-rotated kt token bob --dir "$SASL_PKI" || fail "kafkatls token after rotation failed"
  sasl_roundtrip bob-new-key "$b/client.properties" "$bob_opt"
  sasl_roundtrip bob-old-key "$dir/old.properties" "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=file:$oldtok"
  not_denied "$dir/broker.log" "$SASL_PKI/certs/kafka-1/principal.txt"
}

# The same generated client configs against kafkatls' own test broker:
# Kafka's Java console clients log in on `kafkatls broker --sasl`'s SASL_SSL
# listener (SCRAM against the password files, tokens against the JWKS), and
# its --acls apply to the SASL principals.
scenario_sasl_testbroker() {
  local dir="$WORK/sasl-testbroker"
  mkdir -p "$dir"
  run_out sasl-tb-init kt oauth init --dir "$dir/pki" || fail "kafkatls oauth init failed: $(first_error sasl-tb-init)"
  sasl_cluster "$dir" "[scram-sha-512, oauthbearer]" '  - name: alice
    auth: scram-sha-512
    grants:
      - topic: sasl-topic
        operations: [Read, Write, Create, Describe]
      - group: "*"
        operations: [Read]
  - name: bob
    auth: oauthbearer
    grants:
      - topic: sasl-topic
        operations: [Read, Write, Create, Describe]
      - group: "*"
        operations: [Read]
  - name: eve
    auth: oauthbearer'
  local c="$SASL_PKI/certs" log="$dir/testbroker.log"
  note_log "$log"
  start_proc sasl-testbroker "$log" "$KT" broker kafka-1 --dir "$SASL_PKI" --listen "127.0.0.1:$SSL_PORT" \
    --sasl scram-sha-512,oauthbearer --sasl-listen "127.0.0.1:$SASL_PORT" --acls --spec "$dir/kafkatls.yaml"
  wait_log sasl-testbroker "$log" 'listening on'
  sasl_roundtrip tb-alice "$c/alice/client.properties" ""
  sasl_roundtrip tb-bob "$c/bob/client.properties" "$(sasl_opts "$c/bob/client.properties")"
  sasl_refused tb-eve "$c/eve/client.properties" "$(sasl_opts "$c/eve/client.properties")" \
    'TopicAuthorizationException|TOPIC_AUTHORIZATION_FAILED' "eve (no grants) on the test broker"
  sed 's/password="[^"]*"/password="wrong-password-1"/' "$c/alice/client.properties" >"$dir/wrong.properties"
  sasl_refused tb-wrong-pw "$dir/wrong.properties" "" \
    'SaslAuthenticationException.*invalid credentials' "alice with a wrong password on the test broker"
  grep -qF 'SASL_SSL/SCRAM-SHA-512' "$log" && grep -qF 'principal=User:alice' "$log" ||
    fail "the test broker logged no SCRAM login of User:alice"
  grep -qF 'SASL_SSL/OAUTHBEARER' "$log" && grep -qF 'principal=User:bob' "$log" ||
    fail "the test broker logged no OAUTHBEARER login of User:bob"
  grep -qF 'wrong password for user "alice"' "$log" || fail "the test broker did not log why the wrong password was refused"
}
