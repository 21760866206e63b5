package pki

import (
	"crypto/rand"
	"strings"
)

// passwordAlphabet holds only letters and digits without look-alikes: safe
// unescaped in java.util.Properties, shells, YAML, zoo.cfg and librdkafka
// config. 32 characters from 57 give about 186 bits.
const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// PasswordLength is the length of generated passwords.
const PasswordLength = 32

// GeneratePassword returns a cryptographically random store password.
func GeneratePassword() string {
	var b strings.Builder
	buf := make([]byte, 64)
	limit := 256 - 256%len(passwordAlphabet) // rejection sampling: no modulo bias
	for b.Len() < PasswordLength {
		rand.Read(buf) // never returns an error (Go 1.24+)
		for _, c := range buf {
			if int(c) < limit && b.Len() < PasswordLength {
				b.WriteByte(passwordAlphabet[int(c)%len(passwordAlphabet)])
			}
		}
	}
	return b.String()
}

// ValidatePassword checks a user-supplied store password: Java's JKS
// encoder and keytool treat each UTF-8 byte as a char, so only printable
// ASCII round-trips; keytool refuses fewer than 6 characters.
func ValidatePassword(pw string) error {
	if len(pw) < 6 {
		return invalid(FieldPassword, "", "password is %d characters: keytool and Java need at least 6", len(pw))
	}
	if strings.TrimSpace(pw) != pw {
		return invalid(FieldPassword, "", "password starts or ends with white space: Kafka and ZooKeeper trim config values, so it would not match the stores")
	}
	for i, c := range pw {
		if c < 0x20 || c > 0x7e {
			return invalid(FieldPassword, "", "password character %d is not printable ASCII (Java stores mangle other characters)", i+1)
		}
	}
	return nil
}
