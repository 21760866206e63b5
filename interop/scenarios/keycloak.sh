# SASL_SSL/OAUTHBEARER with a real Keycloak as the identity provider
# (docs/sasl.md, "An external identity provider: Keycloak"): Keycloak serves
# HTTPS with a kafkatls-issued server certificate; kafkatls reads its OIDC
# discovery document; a real Kafka 4 broker validates tokens against
# Keycloak's JWKS over HTTPS; Java console clients get their tokens from
# Keycloak with their client secret (client-credentials grant); ACLs allow
# and deny by the principal kafkatls predicted from the azp claim.

plugin_scenario sasl-keycloak sasl scenario_sasl_keycloak "SASL_SSL/OAUTHBEARER with a real Keycloak: HTTPS from a kafkatls server cert, discovery, JWKS over HTTPS, client secrets, ACLs by azp and by preferred_username"

# Keycloak's server distribution from Maven Central. 26.4.0 runs on
# Debian 12's Java 17 (checked); later 26.x lines may want Java 21.
KEYCLOAK_VERSION=26.4.0
# KEYCLOAK_WAIT bounds Keycloak's start (20-60 s here; dev mode re-runs its
# Quarkus build step at every start).
KEYCLOAK_WAIT=${KAFKATLS_INTEROP_KEYCLOAK_WAIT:-240}

# keycloak_home: the unpacked distribution, fetched and unpacked once into
# the cache; prints its directory.
keycloak_home() {
  local d="$CACHE/keycloak/keycloak-$KEYCLOAK_VERSION" zip
  if [ ! -f "$d/.complete" ]; then
    rm -rf "$d" "$CACHE/keycloak/zip"
    mkdir -p "$CACHE/keycloak/zip"
    timeout 900 mvn -B -q -Dmaven.repo.local="$CACHE/m2" dependency:copy \
      "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
      -DoutputDirectory="$CACHE/keycloak/zip" >"$WORK/out/mvn-keycloak.txt" 2>&1 ||
      fail "mvn could not fetch org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip: $(tail -3 "$WORK/out/mvn-keycloak.txt" | tr '\n' ' ')"
    zip=$(ls "$CACHE/keycloak/zip"/keycloak-quarkus-dist-*.zip)
    (cd "$CACHE/keycloak" && unzip -q "$zip") || fail "could not unzip $zip"
    rm -rf "$CACHE/keycloak/zip"
    [ -x "$d/bin/kc.sh" ] || fail "no bin/kc.sh in $d"
    touch "$d/.complete"
  fi
  echo "$d"
}

# kc_curl ARGS...: curl to Keycloak trusting only the PKI's CA, bounded.
kc_curl() { curl -sS --max-time 30 --cacert "$KC_PKI/ca.crt" "$@"; }

# kc_token FORM_FILE: the access_token of a token-endpoint response.
kc_token() {
  kc_curl --data @"$1" "https://localhost:$KC_PORT/realms/$2/protocol/openid-connect/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# kc_broker_config BROKER_DIR DIR DATA: DIR/server.properties, the
# generated broker config plus the node-specific lines, data in DATA
# (formatted here).
kc_broker_config() {
  local b=$1 dir=$2 data=$3 uuid
  mkdir -p "$data"
  {
    cat "$b/server.properties"
    echo
    echo "# ---- interop/scenarios/keycloak.sh: node-specific settings"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.bootstrap.servers=localhost:$CTRL_PORT"
    echo "listeners=SSL://127.0.0.1:$SSL_PORT,SASL_SSL://127.0.0.1:$SASL_PORT,CONTROLLER://127.0.0.1:$CTRL_PORT"
    echo "advertised.listeners=SSL://localhost:$SSL_PORT,SASL_SSL://localhost:$SASL_PORT,CONTROLLER://localhost:$CTRL_PORT"
    echo "listener.security.protocol.map=SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:SSL"
    echo "controller.listener.names=CONTROLLER"
    echo "inter.broker.listener.name=SSL"
    echo "log.dirs=$data"
    echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    echo "super.users=$(cat "$b/principal.txt")"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "share.coordinator.state.topic.replication.factor=1"
    echo "share.coordinator.state.topic.min.isr=1"
    echo "group.initial.rebalance.delay.ms=0"
  } >"$dir/server.properties"
  uuid=$(tool "$K4" "$K4_STORAGE" random-uuid 2>/dev/null | tail -1)
  run_out "kc-format-$(basename "$data")" tool "$K4" "$K4_STORAGE" format -t "$uuid" -c "$dir/server.properties" --standalone ||
    fail "kafka-storage format rejected the config: $(first_error "kc-format-$(basename "$data")")"
}

scenario_sasl_keycloak() {
  local dir="$WORK/sasl-keycloak" home
  command -v curl >/dev/null || fail "curl not found"
  home=$(keycloak_home)
  mkdir -p "$dir/data" "$dir/secrets"
  chmod 700 "$dir/secrets"
  KC_PKI="$dir/pki"
  KC_PORT=$(free_port)
  SSL_PORT=$(free_port)
  SASL_PORT=$(free_port)
  CTRL_PORT=$(free_port)

  # The IdP's HTTPS certificate from the same PKI as the brokers'.
  run_out kc-init kt init --dir "$KC_PKI" || fail "kafkatls init failed: $(first_error kc-init)"
  run_out kc-server-cert kt issue keycloak --role server --dns localhost --ip 127.0.0.1 --dir "$KC_PKI" ||
    fail "kafkatls issue keycloak --role server failed: $(first_error kc-server-cert)"
  local kcd="$KC_PKI/certs/keycloak"

  # Keycloak in dev mode on 127.0.0.1 (in-memory database: nothing is
  # written to the cached distribution but its build step), HTTPS from
  # kafkatls's PEM certificate chain and key (dev mode also listens for HTTP
  # on another loopback port, which nothing here uses).
  local admin_pw
  admin_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  note_log "$dir/keycloak.log"
  KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$admin_pw" JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m" \
    start_proc keycloak "$dir/keycloak.log" "$home/bin/kc.sh" start-dev --db=dev-mem \
    --http-host=127.0.0.1 --http-port="$(free_port)" --https-port="$KC_PORT" \
    --https-certificate-file="$kcd/chain.pem" --https-certificate-key-file="$kcd/tls.key"
  # kc.sh runs java as its child (it execs it only after a re-build): record
  # that child too, so cleanup stops it by pid even if kc.sh goes first.
  local i kid
  for ((i = 0; i < 50; i++)); do
    kid=$(pgrep -P "$(cat "$WORK/pids/keycloak")" java 2>/dev/null | head -1 || true)
    [ -n "$kid" ] && { echo "$kid" >"$WORK/pids/keycloak-java"; break; }
    proc_alive keycloak || break
    sleep 0.2
  done
  local saved=$WAIT
  WAIT=$KEYCLOAK_WAIT
  wait_log keycloak "$dir/keycloak.log" "Listening on: .*https://127.0.0.1:$KC_PORT"
  WAIT=$saved

  # The realm: two confidential clients with service accounts and an
  # audience mapper (aud kafka), imported through the admin REST API.
  # Secrets stay in 0600 files and curl's --data @file, off argv.
  local orders_secret audit_secret billing_secret
  orders_secret="orders-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  audit_secret="audit-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  billing_secret="billing-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  printf '%s\n' "$orders_secret" >"$dir/secrets/orders-app"
  printf '%s\n' "$audit_secret" >"$dir/secrets/audit-app"
  printf '%s\n' "$billing_secret" >"$dir/secrets/Billing-App"
  sed "s/@ORDERS_SECRET@/$orders_secret/; s/@AUDIT_SECRET@/$audit_secret/; s/@BILLING_SECRET@/$billing_secret/" \
    "$HERE/keycloak/realm-kafka.json" >"$dir/secrets/realm.json"
  printf 'grant_type=password&client_id=admin-cli&username=admin&password=%s' "$admin_pw" >"$dir/secrets/admin.form"
  local admin_tok
  admin_tok=$(kc_token "$dir/secrets/admin.form" master) || fail "no admin token from Keycloak"
  printf 'Authorization: Bearer %s\n' "$admin_tok" >"$dir/secrets/admin.hdr"
  run_out kc-realm kc_curl -H @"$dir/secrets/admin.hdr" -H 'Content-Type: application/json' \
    --data @"$dir/secrets/realm.json" -w '%{http_code}\n' "https://localhost:$KC_PORT/admin/realms" ||
    fail "creating the realm failed: $(cat "$WORK/out/kc-realm.txt")"
  grep -qx 201 "$WORK/out/kc-realm.txt" || fail "Keycloak refused the realm: $(head -c 300 "$WORK/out/kc-realm.txt")"

  # kafkatls reads the discovery document over HTTPS (trusting the PKI's CA).
  local issuer="https://localhost:$KC_PORT/realms/kafka"
  run_out kc-oauth-init kt oauth init --dir "$KC_PKI" --issuer "$issuer" --sub-claim azp --audience kafka ||
    fail "kafkatls oauth init --issuer (discovery) failed: $(cat "$WORK/out/kc-oauth-init.txt" | head -3 | tr '\n' ' ')"
  grep -q "\"jwks_url\": \"$issuer/protocol/openid-connect/certs\"" "$KC_PKI/oauth/idp.json" ||
    fail "idp.json has not Keycloak's jwks_uri: $(tr -d '\n' <"$KC_PKI/oauth/idp.json")"

  run_out kc-broker kt issue kafka-1 --role broker --dns localhost --ip 127.0.0.1 --advertise "localhost:$SSL_PORT" \
    --sasl oauthbearer --sasl-port "$SASL_PORT" --dir "$KC_PKI" || fail "issuing the broker failed: $(first_error kc-broker)"
  for c in orders-app audit-app; do
    run_out "kc-issue-$c" kt issue "$c" --auth oauthbearer --client-id "$c" --client-secret-file "$dir/secrets/$c" --dir "$KC_PKI" ||
      fail "kafkatls issue $c --auth oauthbearer --client-id failed: $(first_error "kc-issue-$c")"
    [ "$(cat "$KC_PKI/certs/$c/principal.txt")" = "User:$c" ] ||
      fail "$c/principal.txt is '$(cat "$KC_PKI/certs/$c/principal.txt")', want User:$c (sub claim azp)"
    [ "$(stat -c %a "$KC_PKI/certs/$c/client-secret.txt")" = 600 ] || fail "$c/client-secret.txt is not mode 600"
    if grep -qF -- "${orders_secret}" "$WORK/out/kc-issue-$c.txt"; then fail "kafkatls issue printed a client secret"; fi
  done
  local o="$KC_PKI/certs/orders-app" b="$KC_PKI/certs/kafka-1" broker_opt orders_opt
  broker_opt=$(sasl_opts "$b/server.properties")
  orders_opt=$(sasl_opts "$o/client.properties")
  [ "$broker_opt" = "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$issuer/protocol/openid-connect/certs" ] ||
    fail "the broker's allow-list is '$broker_opt', want exactly Keycloak's JWKS URL"
  [ "$orders_opt" = "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$issuer/protocol/openid-connect/token" ] ||
    fail "orders-app's allow-list is '$orders_opt', want exactly Keycloak's token URL"

  kc_broker_config "$b" "$dir" "$dir/data"
  sasl_start "$dir" kc-kafka "$broker_opt"

  # ACLs by the predicted principal (principal.txt), from kafkatls acls.
  run_out kc-acl-cmds kt acls orders-app --dir "$KC_PKI" --topic sasl-topic --group '*' --consumer \
    --bootstrap "localhost:$SSL_PORT" --command-config "$b/client.properties" || fail "kafkatls acls failed"
  run_out kc-acl-cmds2 kt acls orders-app --dir "$KC_PKI" --topic sasl-topic --producer \
    --bootstrap "localhost:$SSL_PORT" --command-config "$b/client.properties" || fail "kafkatls acls failed"
  grep -q -- "--allow-principal User:orders-app " "$WORK/out/kc-acl-cmds2.txt" ||
    fail "kafkatls acls orders-app names no User:orders-app: $(grep -m1 kafka-acls "$WORK/out/kc-acl-cmds2.txt")"
  cat "$WORK/out/kc-acl-cmds.txt" "$WORK/out/kc-acl-cmds2.txt" >"$dir/acls.sh"
  PATH="$WORK/bin:$PATH" run_out kc-acls sh -e "$dir/acls.sh" || fail "the kafka-acls commands failed: $(first_error kc-acls)"

  # orders-app: a token from Keycloak (client secret), validated by Kafka
  # against Keycloak's JWKS over HTTPS; principal User:orders-app (azp).
  sasl_roundtrip kc-orders "$o/client.properties" "$orders_opt"
  # KafkaJS with the generated kafkajs-ssl.js: it asks Keycloak for a token.
  local jsmsg="kafkajs-orders-$RANDOM"
  sasl_kafkajs kc-kafkajs-orders "$o" "$jsmsg" ||
    fail "KafkaJS (OAUTHBEARER from Keycloak) could not produce: $(grep -m1 'KafkaJS error' "$WORK/out/kc-kafkajs-orders.txt")"
  SASL_COUNT=$((SASL_COUNT + 1))
  sasl_client kc-consume-kafkajs "$o/client.properties" "$orders_opt" consume sasl-topic "grp-js-$RANDOM" "$SASL_COUNT" ||
    fail "consuming KafkaJS's message failed: $(first_error kc-consume-kafkajs)"
  grep -qxF "$jsmsg" "$WORK/out/kc-consume-kafkajs.txt" || fail "KafkaJS's message did not arrive"
  # confluent-kafka (librdkafka 2.16) with the generated kcat.conf keys:
  # librdkafka's own OIDC client asks Keycloak (https.ca.location: the PKI's CA).
  local pymsg="confluent-orders-$RANDOM"
  sasl_confluent kc-confluent-orders "$o/kcat.conf" "$pymsg" ||
    fail "confluent-kafka (OIDC, kcat.conf keys) could not produce: $(grep -m1 -E 'error|Error' "$WORK/out/kc-confluent-orders.txt" | cut -c1-300)"
  SASL_COUNT=$((SASL_COUNT + 1))
  sasl_client kc-consume-confluent "$o/client.properties" "$orders_opt" consume sasl-topic "grp-py-$RANDOM" "$SASL_COUNT" ||
    fail "consuming confluent-kafka's message failed: $(first_error kc-consume-confluent)"
  grep -qxF "$pymsg" "$WORK/out/kc-consume-confluent.txt" || fail "confluent-kafka's message did not arrive"
  # kafkatls verify --bootstrap gets orders-app's token from Keycloak as
  # Kafka's login handler does, checks it against Keycloak's JWKS and logs in.
  run_out kc-verify-orders kt verify --dir "$KC_PKI" --bootstrap "localhost:$SASL_PORT" --client orders-app --topic sasl-topic ||
    fail "kafkatls verify --bootstrap (orders-app, Keycloak token) failed: $(grep -m1 FAIL "$WORK/out/kc-verify-orders.txt")"

  # audit-app: a valid Keycloak token, no grants: denied by its principal.
  sasl_refused kc-audit "$KC_PKI/certs/audit-app/client.properties" "$(sasl_opts "$KC_PKI/certs/audit-app/client.properties")" \
    'TopicAuthorizationException|TOPIC_AUTHORIZATION_FAILED' "audit-app (no grants) on sasl-topic"
  grep -qF "Principal = User:audit-app is Denied" "$dir/broker.log" || fail "the broker log shows no denial for User:audit-app"
  # A wrong client secret: Keycloak refuses the token request.
  sed 's/clientSecret="[^"]*"/clientSecret="wrong-secret-1"/' "$o/client.properties" >"$dir/secrets/wrong.properties"
  grep -q 'wrong-secret-1' "$dir/secrets/wrong.properties" || fail "could not make a wrong-secret config"
  sasl_refused kc-wrong-secret "$dir/secrets/wrong.properties" "$orders_opt" \
    "401 for URL: https://localhost:$KC_PORT/realms/kafka/protocol/openid-connect/token" "orders-app with a wrong client secret"
  # ... and verify --bootstrap names the refused client secret.
  cp -p "$o/client-secret.txt" "$dir/secrets/orders-secret.bak"
  printf 'wrong-secret-1\n' >"$o/client-secret.txt"
  ! run_out kc-verify-wrong kt verify --dir "$KC_PKI" --bootstrap "localhost:$SASL_PORT" --client orders-app ||
    fail "kafkatls verify --bootstrap passed with a wrong client secret"
  cp -p "$dir/secrets/orders-secret.bak" "$o/client-secret.txt"
  grep -qiE 'client-secret-file|refused the client|invalid_client|401' "$WORK/out/kc-verify-wrong.txt" ||
    fail "verify --bootstrap did not diagnose the wrong client secret: $(grep -m1 FAIL "$WORK/out/kc-verify-wrong.txt")"
  # The token URL not allow-listed: the client refuses to open it.
  sasl_refused kc-no-allowlist "$o/client.properties" "" \
    'not allowed|allowed.urls' "orders-app without the allow-list"
  not_denied "$dir/broker.log" "$b/principal.txt"

  # preferred_username: the IdP re-recorded with that claim, a broker
  # issued for it, and Billing-App, whose principal kafkatls predicts as
  # Keycloak's lower-cased service-account user name.
  run_out kc-oauth-init-pu kt oauth init --dir "$KC_PKI" --issuer "$issuer" --sub-claim preferred_username --audience kafka --force ||
    fail "kafkatls oauth init --sub-claim preferred_username --force failed: $(first_error kc-oauth-init-pu)"
  run_out kc-broker-pu kt issue kafka-pu --role broker --dns localhost --ip 127.0.0.1 --advertise "localhost:$SSL_PORT" \
    --sasl oauthbearer --sasl-port "$SASL_PORT" --dir "$KC_PKI" || fail "issuing the second broker failed: $(first_error kc-broker-pu)"
  run_out kc-issue-billing kt issue billing --auth oauthbearer --client-id Billing-App --client-secret-file "$dir/secrets/Billing-App" --dir "$KC_PKI" ||
    fail "kafkatls issue billing --client-id Billing-App failed: $(first_error kc-issue-billing)"
  [ "$(cat "$KC_PKI/certs/billing/principal.txt")" = "User:service-account-billing-app" ] ||
    fail "billing/principal.txt is '$(cat "$KC_PKI/certs/billing/principal.txt")', want User:service-account-billing-app"
  stop_proc kc-kafka 30
  mkdir -p "$dir/pu"
  local bp="$KC_PKI/certs/kafka-pu"
  kc_broker_config "$bp" "$dir/pu" "$dir/pu/data"
  sasl_start "$dir/pu" kc-kafka-pu "$(sasl_opts "$bp/server.properties")"
  run_out kc-acl-cmds-pu kt acls billing --dir "$KC_PKI" --topic billing-topic --producer \
    --bootstrap "localhost:$SSL_PORT" --command-config "$bp/client.properties" || fail "kafkatls acls billing failed"
  grep -q -- "--allow-principal User:service-account-billing-app " "$WORK/out/kc-acl-cmds-pu.txt" ||
    fail "kafkatls acls billing names not User:service-account-billing-app: $(grep -m1 kafka-acls "$WORK/out/kc-acl-cmds-pu.txt")"
  PATH="$WORK/bin:$PATH" run_out kc-acls-pu sh -e "$WORK/out/kc-acl-cmds-pu.txt" || fail "the kafka-acls commands failed: $(first_error kc-acls-pu)"
  local billing_opt
  billing_opt=$(sasl_opts "$KC_PKI/certs/billing/client.properties")
  sasl_client kc-billing "$KC_PKI/certs/billing/client.properties" "$billing_opt" produce billing-topic "billing-$RANDOM" ||
    fail "Billing-App could not produce as User:service-account-billing-app: $(first_error kc-billing)"
  if grep -qE 'ERROR|Exception' "$WORK/out/kc-billing.txt"; then fail "Billing-App's produce failed: $(first_error kc-billing)"; fi
  # orders-app under this claim is service-account-orders-app, which has no ACL.
  sasl_refused kc-orders-pu "$o/client.properties" "$orders_opt" \
    'TopicAuthorizationException|TOPIC_AUTHORIZATION_FAILED' "orders-app as User:service-account-orders-app on sasl-topic"
  grep -qF "Principal = User:service-account-orders-app is Denied" "$dir/pu/broker.log" ||
    fail "the second broker's log shows no denial for User:service-account-orders-app"
  not_denied "$dir/pu/broker.log" "$bp/principal.txt"
}
