package sasl

import (
	"bytes"
	"fmt"
	"strings"
)

// ScramPasswordFile is a SCRAM identity's password, in its directory (0600).
const ScramPasswordFile = "scram-password"

// ScramScriptFile is the bundle's script that creates the SCRAM credentials.
const ScramScriptFile = "scram.sh"

// DefaultScramIterations is what scram.sh asks for (Kafka's minimum is 4096).
const DefaultScramIterations = 8192

// ScramPasswordError: a SCRAM password kafkatls cannot hand to Kafka's
// tools intact.
type ScramPasswordError struct{ Msg string }

func (e *ScramPasswordError) Error() string { return "SCRAM password: " + e.Msg }

// ValidateScramPassword checks a SCRAM password: 8 printable ASCII
// characters at least, and none of the characters Kafka's credential
// syntax (SCRAM-SHA-512=[iterations=N,password=P], in kafka-configs and
// kafka-storage format --add-scram) splits or unquotes on: space , [ ] =
// " ' and backslash. (sasl.jaas.config itself could carry any, JAASQuote
// escapes them; the tools that create the credential cannot.)
func ValidateScramPassword(pw string) error {
	if len(pw) < 8 {
		return &ScramPasswordError{Msg: fmt.Sprintf("%d characters; want 8 at least", len(pw))}
	}
	for i, c := range pw {
		if c <= 0x20 || c > 0x7e {
			return &ScramPasswordError{Msg: fmt.Sprintf("character %d is not printable ASCII (or is a space)", i+1)}
		}
		if strings.ContainsRune(`,[]="'\`, c) {
			return &ScramPasswordError{Msg: fmt.Sprintf("character %d is %q, which Kafka's credential syntax SCRAM-SHA-512=[...,password=...] cannot carry", i+1, c)}
		}
	}
	return nil
}

// ScramUser is one SCRAM identity as scram.sh creates it.
type ScramUser struct {
	Name         string
	Auth         Auth   // ScramSHA512 or ScramSHA256
	PasswordFile string // absolute path of its scram-password file
}

// ScramScriptOptions are scram.sh's defaults (each overridable from the
// environment when it runs).
type ScramScriptOptions struct {
	Bootstrap     string // BOOTSTRAP: a broker's mTLS listener
	CommandConfig string // COMMAND_CONFIG: an admin client config (a broker's client.properties)
}

// ScramScript renders scram.sh: for a running cluster it creates every
// user's credential with kafka-configs --add-config-file (the password
// goes through a 0600 temporary file, never a command line); for a new
// KRaft cluster it runs kafka-storage format with one --add-scram per
// user (that tool takes them only as arguments: run it where no one else
// can list processes, or create the credentials later with "alter").
// Passwords are read from the users' password files when it runs.
func ScramScript(users []ScramUser, o ScramScriptOptions) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`#!/bin/sh
# SCRAM credentials of this bundle's SASL_SSL identities (kafkatls bundle).
# The passwords are read from each identity's scram-password file when this
# runs; none is written in this script.
#
#   sh scram.sh alter                  running cluster: kafka-configs --alter
#                                      --add-config-file, one user at a time
#   sh scram.sh format -t ID -c server.properties [--standalone ...]
#                                      new KRaft cluster: kafka-storage format with
#                                      --add-scram for every user (needed before
#                                      the first start when brokers use SCRAM)
#
# Environment: KAFKA_CONFIGS, KAFKA_STORAGE (the tools), BOOTSTRAP and
# COMMAND_CONFIG (an admin client on the mTLS listener), ITERATIONS.
set -eu
`)
	fmt.Fprintf(&b, "KAFKA_CONFIGS=\"${KAFKA_CONFIGS:-kafka-configs.sh}\"\nKAFKA_STORAGE=\"${KAFKA_STORAGE:-kafka-storage.sh}\"\n")
	fmt.Fprintf(&b, "BOOTSTRAP=\"${BOOTSTRAP:-%s}\"\nCOMMAND_CONFIG=\"${COMMAND_CONFIG:-%s}\"\nITERATIONS=\"${ITERATIONS:-%d}\"\n",
		shDQ(o.Bootstrap), shDQ(o.CommandConfig), DefaultScramIterations)
	b.WriteString(`
# password FILE: the password in FILE, checked as kafkatls checks it.
password() {
  pw=$(cat "$1")
  if [ -z "$pw" ] || printf '%s' "$pw" | LC_ALL=C grep -q '[][ ,="'\''\\]'; then
    echo "scram.sh: $1: empty, or holds a character Kafka's credential syntax cannot carry" >&2
    exit 2
  fi
  printf '%s' "$pw"
}

# alter MECHANISM USER FILE
alter() {
  tmp=$(umask 077 && mktemp)
  trap 'rm -f "$tmp"' EXIT
  pw=$(password "$3")
  # A config file takes the value without the brackets --add-config wants.
  printf '%s=iterations=%s,password=%s\n' "$1" "$ITERATIONS" "$pw" >"$tmp"
  "$KAFKA_CONFIGS" --bootstrap-server "$BOOTSTRAP" --command-config "$COMMAND_CONFIG" \
    --alter --entity-type users --entity-name "$2" --add-config-file "$tmp"
  rm -f "$tmp"
  trap - EXIT
}

case "${1:-}" in
alter)
`)
	if len(users) == 0 {
		b.WriteString("  echo \"scram.sh: the bundle has no SCRAM identities (any more); a former one's credential stays until: kafka-configs --alter --delete-config SCRAM-SHA-512 --entity-type users --entity-name NAME\" >&2\n")
	}
	for _, u := range users {
		if !u.Auth.Spec().Scram {
			return nil, fmt.Errorf("scram.sh: %s authenticates with %s, not SCRAM", u.Name, u.Auth)
		}
		fmt.Fprintf(&b, "  alter %s %s %s\n", u.Auth.Spec().Mechanism, shSQ(u.Name), shSQ(u.PasswordFile))
	}
	b.WriteString("  ;;\nformat)\n  shift\n")
	for i, u := range users {
		fmt.Fprintf(&b, "  p%d=$(password %s)\n", i, shSQ(u.PasswordFile))
	}
	b.WriteString("  exec \"$KAFKA_STORAGE\" format \"$@\"")
	for i, u := range users {
		fmt.Fprintf(&b, " \\\n    --add-scram \"%s=[name=%s,iterations=$ITERATIONS,password=$p%d]\"", u.Auth.Spec().Mechanism, shDQ(u.Name), i)
	}
	b.WriteString(`
  ;;
*)
  echo "usage: sh scram.sh alter | format -t CLUSTER_ID -c server.properties [...]" >&2
  exit 2
  ;;
esac
`)
	return b.Bytes(), nil
}

// shSQ single-quotes s for a POSIX shell.
func shSQ(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shDQ escapes s for the inside of a double-quoted shell string.
func shDQ(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	return r.Replace(s)
}
