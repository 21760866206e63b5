package cmd

import (
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
)

func newCSRCmd(g *globals) *cobra.Command {
	var (
		cf      certFlags
		keyType string
		keySize int
		outDir  string
		force   bool
	)
	c := &cobra.Command{
		Use:   "csr NAME",
		Short: "Generate a key and a PKCS#10 CSR for a host that keeps its own key",
		Long: `csr writes NAME.key (unencrypted PKCS#8, mode 0600) and NAME.csr into --out-dir,
with the same subject and SAN flags as issue. Sign the CSR with
` + "`kafkatls sign NAME.csr --role ROLE`" + ` where the CA lives. If a PKI directory exists, its
subject and key defaults apply.`,
		Example: `  kafkatls csr kafka-3 --role broker --dns kafka-3.internal --out-dir /etc/kafka/tls
  kafkatls sign /etc/kafka/tls/kafka-3.csr --role broker`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := identity.ValidateName(name); err != nil {
				return usageErr("%v", err)
			}
			if err := positiveDays(cmd, "days"); err != nil {
				return err
			}
			req, err := cf.request(name)
			if err != nil {
				return err
			}
			spec := pki.KeySpec{Type: pki.KeyType(keyType), Size: keySize}
			subject := req.Subject
			if p, err := pki.Open(g.dir, nil); err == nil {
				if keyType == "" {
					spec = p.Settings.Key
				}
				subject = p.SubjectDN(req)
			} else if subject == "" {
				subject = "CN=" + pki.EscapeDNValue(name)
			}
			if spec, err = spec.Normalize(); err != nil {
				return usageErr("--key-type/--key-size: %v", err)
			}
			keyPath := filepath.Join(outDir, name+".key")
			csrPath := filepath.Join(outDir, name+".csr")
			for _, f := range []string{keyPath, csrPath} {
				if fsx.Exists(f) && !force {
					return fmt.Errorf("%s exists: refusing to overwrite it; use --force", f)
				}
			}
			key, err := pki.GenerateKey(spec)
			if err != nil {
				return err
			}
			der, err := pki.CreateCSR(key, subject, req.SANs)
			if err != nil {
				return usageErr("%w", err)
			}
			keyPEM, err := pem.EncodeKey(key)
			if err != nil {
				return err
			}
			if err := fsx.WriteFile(keyPath, keyPEM, fsx.PrivateFile); err != nil {
				return err
			}
			if err := fsx.WriteFile(csrPath, pem.EncodeCSR(der), fsx.PublicFile); err != nil {
				return err
			}
			res := map[string]any{"name": name, "key": keyPath, "csr": csrPath, "subject": subject, "sans": req.SANs.String(), "keyType": spec.String()}
			return g.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "Wrote %s (%s, keep it on this host) and %s\n  subject  %s\n", keyPath, spec, csrPath, subject)
				if s := req.SANs.String(); s != "" {
					fmt.Fprintf(w, "  SANs     %s\n", s)
				}
				fmt.Fprintf(w, "Next: kafkatls sign %s --role %s\n", csrPath, req.Role)
			})
		},
	}
	cf.register(c, true)
	c.Flags().StringVar(&keyType, "key-type", "", "rsa or ecdsa (default: the PKI's, else rsa)")
	c.Flags().IntVar(&keySize, "key-size", 0, "key size (rsa 2048|3072|4096, ecdsa 256|384)")
	c.Flags().StringVar(&outDir, "out-dir", ".", "directory for NAME.key and NAME.csr")
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing NAME.key/NAME.csr")
	return c
}

func newSignCmd(g *globals) *cobra.Command {
	var (
		cf    certFlags
		name  string
		out   string
		force bool
		pass  caPassphrase
	)
	c := &cobra.Command{
		Use:   "sign CSR",
		Short: "Sign an external CSR (e.g. from keytool -certreq), keeping its SANs",
		Long: `sign verifies a PKCS#10 CSR (PEM or DER, including keytool -certreq output),
signs it with the role's key usages and KEEPS the CSR's SANs — DNS, IP, email
and URI — (openssl x509 -req silently drops them), adding any --dns/--ip. The
CSR's key must pass the same policy as issue's keys: RSA of 2048 bits or more,
or ECDSA P-256/P-384/P-521. It writes DIR/certs/NAME/tls.crt,
chain.pem (leaf + CA, importable with keytool -importcert) and ca.crt; NAME
is the CSR's CN unless --name is given.`,
		Example: `  keytool -certreq -alias kafka-1 -keystore kafka-1.jks -ext SAN=dns:kafka-1 -file kafka-1.csr
  kafkatls sign kafka-1.csr --role broker --out kafka-1-chain.pem
  keytool -importcert -alias caroot -file kafka-pki/ca.crt -keystore kafka-1.jks
  keytool -importcert -alias kafka-1 -file kafka-1-chain.pem -keystore kafka-1.jks`,
		Args: exactArgs(1, "CSR file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			role, err := pki.ParseRole(cf.role)
			if err != nil {
				return usageErr("--role: %v", err)
			}
			if err := positiveDays(cmd, "days"); err != nil {
				return err
			}
			data, err := fsx.ReadFileLimit(args[0], fsx.LimitPEM)
			if err != nil {
				return err
			}
			csr, err := pem.DecodeCSR(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			req, err := pki.CSRRequest(csr, name, role, cf.dns, cf.ips, cf.days)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if err := identity.ValidateName(req.Name); err != nil {
				return usageErr("%v (use --name)", err)
			}
			var res *identity.Result
			err = pki.Update(cmd.Context(), g.dir, pki.UpdateOptions{Passphrase: pass.prompt, Engines: g.engines()}, func(tx *pki.Tx) error {
				p, idx := tx.PKI, tx.Index
				cert, err := tx.Sign(req, csr.PublicKey)
				if err != nil {
					return err
				}
				res, err = identity.Write(identity.Dir(p.Dir, req.Name), identity.Material{
					Name: req.Name, Role: role, Cert: cert, CAChain: p.Chain(), Trust: identity.TrustSet(p), // both CAs during a rotation
				}, identity.Options{Force: force})
				if err != nil {
					return err
				}
				idx.Settle(pki.NewRecord(req.Name, role, cert, true))
				if out != "" {
					if err := fsx.WriteFile(out, pem.EncodeCerts(append([]*x509.Certificate{cert}, p.Chain()...)...), fsx.PublicFile); err != nil {
						return err
					}
					res.Files = append(res.Files, out)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return g.emit(res, func(w io.Writer) { printEntity(w, res) })
		},
	}
	cf.register(c, true)
	c.Flags().StringVar(&name, "name", "", "entity name (default: the CSR's CN)")
	c.Flags().StringVar(&out, "out", "", "also write the chain (leaf + CA) to this file")
	c.Flags().BoolVar(&force, "force", false, "replace an existing certificate of that name")
	pass.register(c)
	return c
}
