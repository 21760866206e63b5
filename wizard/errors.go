package wizard

import (
	"errors"
	"fmt"

	"github.com/kafkatls/kafkatls/pki"
)

// fieldLabels are the titles of the wizard's inputs for the fields core
// errors name. Core errors speak domain words; the wizard adds which input
// to fix, as the CLI adds which flag.
var fieldLabels = map[pki.Field]string{
	pki.FieldDNS:        "Hostnames",
	pki.FieldIP:         "IP addresses",
	pki.FieldName:       "Client name",
	pki.FieldPassphrase: "CA key passphrase",
}

// explain returns err's message with the wizard input that fixes it.
func explain(err error) string {
	msg := err.Error()
	var fe *pki.InvalidFieldError
	switch {
	case errors.As(err, &fe) && fe.BelongsIn != "" && fieldLabels[fe.BelongsIn] != "":
		msg += fmt.Sprintf("; enter it under %q", fieldLabels[fe.BelongsIn])
	case errors.As(err, &fe) && fieldLabels[fe.Field] != "":
		msg += fmt.Sprintf(" (%q)", fieldLabels[fe.Field])
	case errors.Is(err, pki.ErrCAKeyEncrypted) || errors.Is(err, pki.ErrWrongPassphrase):
		msg += fmt.Sprintf("; enter it under %q", fieldLabels[pki.FieldPassphrase])
	}
	return msg
}
