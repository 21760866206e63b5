package stores

import (
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// UnverifiedEntry is a JKS entry read without the store password.
type UnverifiedEntry struct {
	Alias   string
	Created time.Time
	IsKey   bool // a private-key entry (the key itself stays encrypted)
	Certs   []*x509.Certificate
}

type jksWalker struct {
	b   []byte
	off int
	err error
}

func (r *jksWalker) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("a field of %d bytes at offset %d runs past the end of the file (%d bytes)", n, r.off, len(r.b))
		return nil
	}
	out := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return out
}

func (r *jksWalker) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *jksWalker) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *jksWalker) utf() string {
	b := r.take(uint64(r.u16()))
	if !utf8.Valid(b) {
		return fmt.Sprintf("%q", b) // Java's modified UTF-8 (NUL, surrogates): show it quoted
	}
	return string(b)
}

func (r *jksWalker) cert(version uint32) *x509.Certificate {
	if version == 2 {
		if t := r.utf(); r.err == nil && t != "X.509" && t != "X509" {
			r.err = fmt.Errorf("certificate type %q is not X.509", t)
			return nil
		}
	}
	der := r.take(uint64(r.u32()))
	if r.err != nil {
		return nil
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		r.err = fmt.Errorf("certificate: %v", err)
		return nil
	}
	return c
}

// ReadUnverified lists a JKS keystore without its password, as keytool
// -list does without -storepass: JKS keeps aliases, creation times and
// certificates in the clear, and only the trailing integrity digest needs
// the password. The digest is NOT checked and keys stay encrypted. Every
// length is checked against the remaining input, so it is safe on hostile
// files; Read runs it first for that reason.
func ReadUnverified(data []byte) ([]UnverifiedEntry, error) {
	r := &jksWalker{b: data}
	if r.u32() != 0xFEEDFEED {
		return nil, errors.New("jks: not a JKS keystore (bad magic)")
	}
	version := r.u32()
	if r.err == nil && version != 1 && version != 2 {
		return nil, fmt.Errorf("jks: unsupported JKS version %d", version)
	}
	count := r.u32()
	var out []UnverifiedEntry
	for i := uint32(0); i < count && r.err == nil; i++ {
		tag := r.u32()
		e := UnverifiedEntry{Alias: r.utf()}
		ms := r.take(8)
		if r.err != nil {
			break
		}
		e.Created = time.UnixMilli(int64(binary.BigEndian.Uint64(ms))).UTC()
		switch tag {
		case 1:
			e.IsKey = true
			r.take(uint64(r.u32())) // the encrypted key
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				if c := r.cert(version); c != nil {
					e.Certs = append(e.Certs, c)
				}
			}
		case 2:
			if c := r.cert(version); c != nil {
				e.Certs = append(e.Certs, c)
			}
		default:
			return nil, fmt.Errorf("jks: corrupted JKS keystore: entry %d has unknown tag %d", i+1, tag)
		}
		if r.err == nil {
			out = append(out, e)
		}
	}
	r.take(20) // SHA-1 integrity digest
	if r.err != nil {
		return nil, fmt.Errorf("jks: truncated or corrupted JKS keystore: %w", r.err)
	}
	return out, nil
}
