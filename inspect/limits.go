package inspect

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
)

// Limits of the files lint reads besides stores and certificates (those
// stop at MaxFileSize). A kafkatls config is a few KB and a password one
// line; anything much larger is not what the name says.
const (
	MaxConfigSize   = 1 << 20
	MaxPasswordSize = 4096
)

// storeExts are the file name endings of certificate and store files.
var storeExts = []string{".jks", ".p12", ".pfx", ".pem", ".crt", ".cer", ".der", ".key", ".csr"}

// nameKind tells what a file's name says it is: "store" for a certificate,
// key or store file, "password" for a password file, "" for anything else.
// lint DIR reads every file its name or content makes a candidate and fails
// on any it cannot read, so a truncated keystore.p12 is an error, not a
// skipped file.
func nameKind(path string) string {
	base := strings.ToLower(filepath.Base(path))
	if base == "password" || strings.HasSuffix(base, ".password") || strings.HasSuffix(base, "-password") || strings.HasSuffix(base, "_password") {
		return "password"
	}
	for _, ext := range storeExts {
		if strings.HasSuffix(base, ext) {
			return "store"
		}
	}
	// keystore, kafka.server.truststore, cacerts; not keystore.properties.
	for _, word := range []string{"keystore", "truststore", "cacerts"} {
		if strings.Contains(base, word) && (filepath.Ext(base) == "" || strings.HasSuffix(base, word)) {
			return "store"
		}
	}
	return ""
}

// readPassword reads a password file as kafkatls and Kafka's tooling do:
// one line, the trailing newline dropped.
func readPassword(path string) (string, error) {
	b, err := fsx.ReadFileLimit(path, MaxPasswordSize)
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(b), "\r\n")
	switch {
	case pw == "":
		return "", fmt.Errorf("%s is empty: a store password cannot be empty", path)
	case strings.ContainsAny(pw, "\r\n"):
		return "", fmt.Errorf("%s holds more than one line: a password file holds the password alone", path)
	}
	return pw, nil
}
