#!/usr/bin/env bash
# compare.sh: the classic openssl + keytool flow (bench/classic.sh) against
# `kafkatls bundle` for the same set (a CA, kafka-1, kafka-2, zookeeper,
# client1), run alternately BENCH_RUNS times in one invocation, for RSA-2048
# and ECDSA P-256; then a 100-client ECDSA P-256 bundle. Prints every run,
# the medians and the median speed-up, and how they compare with the
# targets. It reports; it never fails on a timing.
#
# kafkatls writes JKS, PKCS12 and PEM for every identity, plus configs, and
# fsyncs what it writes; keytool writes one store type and never fsyncs.
#
# Environment:
#   BENCH_RUNS       runs of each side per key type (default 5)
#   BENCH_KEYS       key types to compare (default "rsa ecdsa")
#   BENCH_STORETYPE  the classic flow's store type: pkcs12 (keytool's
#                    default, default) or jks
#   BENCH_CLIENTS    clients in the many-clients bundle (default 100; 0 skips it)
#   BENCH_TMPDIR     where both sides write (default $TMPDIR or /tmp); use
#                    /dev/shm to take the disk out of the comparison
#   KAFKATLS         a kafkatls binary to use instead of building one
#   GO               the go command (default go)
set -euo pipefail
export LC_ALL=C

RUNS=${BENCH_RUNS:-5}
KEYS=${BENCH_KEYS:-rsa ecdsa}
STORETYPE=${BENCH_STORETYPE:-pkcs12}
CLIENTS=${BENCH_CLIENTS:-100}
GO=${GO:-go}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
base=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

case "$RUNS" in '' | *[!0-9]* | 0) echo "compare.sh: BENCH_RUNS must be a positive number" >&2; exit 2 ;; esac
for tool in keytool openssl; do
	command -v "$tool" >/dev/null || { echo "compare.sh: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d "$base/kafkatls-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "${KAFKATLS:-}" ]; then
	cp "$KAFKATLS" "$work/kafkatls"
else
	CGO_ENABLED=0 "$GO" build -trimpath -o "$work/kafkatls" "$root" # as make build does
fi

# secs START END: the difference of two $EPOCHREALTIME values.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
# median: of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

spec() { # spec KEYTYPE: the classic set
	cat <<EOF
ca: {cn: Bench CA, org: Acme, keyType: $1}
brokers: [{name: kafka-1}, {name: kafka-2}]
zookeepers: [{name: zookeeper}]
clients: [{name: client1}]
defaults: {keyType: $1, formats: [jks, p12, pem]}
EOF
}

# Every timed run starts with nothing dirty in the page cache (sync, outside
# the timing), so neither side pays for the other's writes.
run_classic() { # run_classic KEYALG: prints seconds
	local t0 t1
	sync
	t0=$EPOCHREALTIME
	TMPDIR="$work" KEYALG="$1" STORETYPE="$STORETYPE" "$here/classic.sh" >/dev/null
	t1=$EPOCHREALTIME
	secs "$t0" "$t1"
}

run_kafkatls() { # run_kafkatls SPEC: prints seconds
	local t0 t1 dir="$work/pki"
	rm -rf "$dir"
	sync
	t0=$EPOCHREALTIME
	"$work/kafkatls" --dir "$dir" bundle -f "$1" >/dev/null 2>"$work/stderr" ||
		{ cat "$work/stderr" >&2; exit 1; }
	t1=$EPOCHREALTIME
	for f in keystore.jks keystore.p12 truststore.jks truststore.p12 tls.key keystore.pem; do
		test -s "$dir/certs/kafka-1/$f" || { echo "compare.sh: kafkatls wrote no certs/kafka-1/$f" >&2; exit 1; }
	done
	rm -rf "$dir"
	secs "$t0" "$t1"
}

echo "kafkatls bundle vs the classic openssl + keytool flow ($STORETYPE stores, 17 JVM launches)"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), writing under $base"
disk_probe() { # median time of a 4 KiB write + fsync under $work, in ms
	local i t0 t1
	for i in $(seq 1 11); do
		t0=$EPOCHREALTIME
		dd if=/dev/zero of="$work/probe" bs=4k count=1 conv=fsync status=none
		t1=$EPOCHREALTIME
		secs "$t0" "$t1"
		echo
	done | median | awk '{ printf "%.2f", $1 * 1000 }'
	rm -f "$work/probe"
}
echo "disk probe: a 4 KiB write + fsync (dd) takes $(disk_probe) ms (median of 11), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

for key in $KEYS; do
	case "$key" in
	rsa) alg=RSA label="RSA-2048" target=40 ;;
	ecdsa) alg=EC label="ECDSA P-256" target=500 ;;
	*) echo "compare.sh: BENCH_KEYS: unknown key type $key (rsa, ecdsa)" >&2; exit 2 ;;
	esac
	spec "$key" >"$work/$key.yaml"
	echo "== $label: CA + kafka-1 + kafka-2 + zookeeper + client1, $RUNS runs each, alternating"
	: >"$work/classic.txt"
	: >"$work/kafkatls.txt"
	: >"$work/ratio.txt"
	for i in $(seq 1 "$RUNS"); do
		if ((i % 2)); then
			c=$(run_classic "$alg")
			k=$(run_kafkatls "$work/$key.yaml")
		else
			k=$(run_kafkatls "$work/$key.yaml")
			c=$(run_classic "$alg")
		fi
		r=$(ratio "$c" "$k")
		echo "$c" >>"$work/classic.txt"
		echo "$k" >>"$work/kafkatls.txt"
		echo "$r" >>"$work/ratio.txt"
		printf 'run %d: classic %7.3f s   kafkatls %7.4f s   speed-up %7.1fx\n' "$i" "$c" "$k" "$r"
	done
	mc=$(median <"$work/classic.txt")
	mk=$(median <"$work/kafkatls.txt")
	mr=$(median <"$work/ratio.txt")
	printf 'median: classic %7.3f s   kafkatls %7.4f s   median speed-up %.1fx (ratio of medians %.1fx)\n' \
		"$mc" "$mk" "$mr" "$(ratio "$mc" "$mk")"
	if awk -v r="$mr" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
		echo "target >= ${target}x: met"
	else
		printf 'target >= %dx: NOT met (kafkatls would need <= %.1f ms against this classic median)\n' \
			"$target" "$(awk -v c="$mc" -v t="$target" 'BEGIN { print c / t * 1000 }')"
	fi
	echo
done

if [ "$CLIENTS" -gt 0 ]; then
	{
		echo "ca: {cn: Bench CA, org: Acme, keyType: ecdsa}"
		echo "brokers: [{name: kafka-1}]"
		echo "clients:"
		for i in $(seq -f '%03g' 1 "$CLIENTS"); do echo "  - name: client-$i"; done
		echo "defaults: {keyType: ecdsa, formats: [jks, p12, pem]}"
	} >"$work/many.yaml"
	echo "== ECDSA P-256: CA + 1 broker + $CLIENTS clients, kafkatls bundle, $RUNS runs"
	: >"$work/many.txt"
	for i in $(seq 1 "$RUNS"); do
		k=$(run_kafkatls "$work/many.yaml")
		echo "$k" >>"$work/many.txt"
		printf 'run %d: kafkatls %7.3f s\n' "$i" "$k"
	done
	mm=$(median <"$work/many.txt")
	printf 'median: %.3f s on %d cores\n' "$mm" "$(nproc)"
	if [ "$CLIENTS" -eq 100 ]; then
		if awk -v m="$mm" 'BEGIN { exit !(m < 1) }'; then
			echo "target < 1 s on 2 cores: met ($(nproc) cores here)"
		else
			echo "target < 1 s on 2 cores: NOT met ($(nproc) cores here)"
		fi
	fi
fi
