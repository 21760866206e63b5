package identity

import (
	"errors"
	"fmt"
	"slices"

	"github.com/kafkatls/kafkatls/pki"
)

// ErrConnectFormats: a Connect worker was asked for stores its REST
// listener cannot read. Jetty opens them with java.security.KeyStore,
// which has no PEM type, so a worker needs p12 or jks whatever its Kafka
// clients use.
var ErrConnectFormats = errors.New("a Connect worker's REST listener (Jetty) reads only PKCS12 or JKS stores: its formats must include p12 or jks")

// CheckFormats refuses store formats a role cannot use, before anything
// is signed: today only a Connect worker without p12 or jks.
func CheckFormats(role pki.Role, formats []string) error {
	if len(formats) == 0 {
		formats = AllFormats
	}
	if role == pki.RoleConnect && !slices.Contains(formats, FormatP12) && !slices.Contains(formats, FormatJKS) {
		return fmt.Errorf("formats %v: %w", formats, ErrConnectFormats)
	}
	return nil
}
