package sasl

import (
	"fmt"
	"strings"
)

// JAASError: a value cannot be written inside sasl.jaas.config.
type JAASError struct {
	Option string // the JAAS option, e.g. "password"
	Msg    string
}

func (e *JAASError) Error() string { return "sasl.jaas.config option " + e.Option + ": " + e.Msg }

// JAASQuote returns v as a quoted JAAS option value, as Kafka's JaasConfig
// (a java.io.StreamTokenizer with '"' as its quote character) reads it
// back: a backslash and a double quote are escaped with a backslash, all
// else is kept. Control characters are refused: StreamTokenizer would turn
// some of them into escapes of its own and a line end ends the string.
// The result still needs .properties escaping when it goes into a
// .properties file (templates.PropertiesValue).
func JAASQuote(option, v string) (string, error) {
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", &JAASError{Option: option, Msg: fmt.Sprintf("contains control character %U", r)}
		}
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		if r == '\\' || r == '"' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// ScramJAAS is the client's sasl.jaas.config for SCRAM: the login module
// with the user name and password, each quoted.
func ScramJAAS(username, password string) (string, error) {
	u, err := JAASQuote("username", username)
	if err != nil {
		return "", err
	}
	p, err := JAASQuote("password", password)
	if err != nil {
		return "", err
	}
	return ScramLoginModule + " required username=" + u + " password=" + p + ";", nil
}

// ServerJAAS is a broker's sasl.jaas.config for the mechanism of a: the
// login module with no options (SCRAM credentials live in the cluster
// metadata; OAUTHBEARER tokens are checked by the validator callback
// handler).
func ServerJAAS(a Auth) string { return a.Spec().LoginModule + " required;" }

// OAuthClientJAAS is an OAUTHBEARER client's sasl.jaas.config: the token
// comes from sasl.oauthbearer.token.endpoint.url, so no options.
const OAuthClientJAAS = OAuthBearerLoginModule + " required;"
