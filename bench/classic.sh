#!/usr/bin/env bash
# classic.sh: the hand-written openssl + keytool flow of the classic Kafka
# SSL guides, for timing against `kafkatls bundle` (bench/compare.sh).
#
# It builds a CA with openssl and, for each of kafka-1, kafka-2, zookeeper
# and client1: keytool -genkeypair, keytool -certreq, openssl x509 -req
# with a SAN/EKU extfile, then two keytool -importcert (the CA, then the
# signed reply); plus one shared truststore. 4 x 4 + 1 = 17 JVM launches.
#
# Environment:
#   KEYALG     RSA (2048-bit, default) or EC (secp256r1)
#   STORETYPE  pkcs12 (keytool's default since Java 9, default) or jks
#   TMPDIR     where the temporary working directory goes
# Usage: classic.sh [OUTDIR]   (OUTDIR, if given, receives the stores;
#                               otherwise everything is removed on exit)
set -euo pipefail

KEYALG=${KEYALG:-RSA}
STORETYPE=${STORETYPE:-pkcs12}
OUT=${1:-}
PASS=classic-bench-pass # keytool wants >= 6 characters; the guides use one password everywhere
DAYS=365

case "$KEYALG" in
RSA) keyopts=(-keyalg RSA -keysize 2048) ca_newkey=(-newkey rsa:2048) ;;
EC) keyopts=(-keyalg EC -groupname secp256r1) ca_newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
*) echo "classic.sh: KEYALG must be RSA or EC, not $KEYALG" >&2; exit 2 ;;
esac
case "$STORETYPE" in
pkcs12) ext=p12 ;;
jks) ext=jks ;;
*) echo "classic.sh: STORETYPE must be pkcs12 or jks, not $STORETYPE" >&2; exit 2 ;;
esac
for tool in keytool openssl; do
	command -v "$tool" >/dev/null || { echo "classic.sh: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kafkatls-classic.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

jvms=0
kt() {
	jvms=$((jvms + 1))
	keytool "$@" -storetype "$STORETYPE" -storepass "$PASS" -noprompt >keytool.log 2>&1 ||
		{ echo "classic.sh: keytool $* failed:" >&2; cat keytool.log >&2; exit 1; }
}

# The CA.
openssl req -new -x509 "${ca_newkey[@]}" -nodes -keyout ca-key.pem -out ca-cert.pem -days 3650 \
	-subj "/O=Acme/CN=Classic CA" 2>/dev/null

# One identity: NAME, then "server" (serverAuth+clientAuth, host SANs) or "client".
identity() {
	local name=$1 kind=$2 ks="$1.keystore.$ext"
	kt -genkeypair -keystore "$ks" -alias "$name" "${keyopts[@]}" -validity "$DAYS" \
		-dname "CN=$name, O=Acme" -keypass "$PASS"
	kt -certreq -keystore "$ks" -alias "$name" -file "$name.csr"
	{
		echo "basicConstraints=CA:FALSE"
		if [ "$kind" = server ]; then
			echo "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1"
			echo "extendedKeyUsage=serverAuth,clientAuth"
		else
			echo "extendedKeyUsage=clientAuth"
		fi
	} >"$name.ext"
	openssl x509 -req -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -in "$name.csr" \
		-out "$name.crt" -days "$DAYS" -sha256 -extfile "$name.ext" 2>/dev/null
	kt -importcert -keystore "$ks" -alias CARoot -file ca-cert.pem
	kt -importcert -keystore "$ks" -alias "$name" -file "$name.crt"
}

identity kafka-1 server
identity kafka-2 server
identity zookeeper server
identity client1 client
kt -importcert -keystore "truststore.$ext" -alias CARoot -file ca-cert.pem

for f in kafka-1 kafka-2 zookeeper client1; do
	test -s "$f.keystore.$ext"
done
test -s "truststore.$ext"
if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
	cp ./*."$ext" ca-cert.pem ./*.crt "$OUT"/
fi
echo "classic: $KEYALG $STORETYPE, $jvms JVM launches"
