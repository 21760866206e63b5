package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/stores"
)

// certFlags are the subject, SAN and validity flags shared by issue, csr
// and sign.
type certFlags struct {
	role          string
	subject       string
	dns, ips      []string
	emails        []string
	noDefaultSANs bool
	days          int
}

func (f *certFlags) register(c *cobra.Command, withRole bool) {
	fl := c.Flags()
	if withRole {
		fl.StringVar(&f.role, "role", "client", strings.ReplaceAll(pki.RoleNames(), ", ", " | "))
	}
	fl.StringVar(&f.subject, "subject", "", `full subject DN as keytool -dname takes it, e.g. "CN=client1,OU=Apps,O=Acme" (default CN=NAME + the init defaults)`)
	fl.StringSliceVar(&f.dns, "dns", nil, "DNS SANs to add (repeatable, comma lists)")
	fl.StringSliceVar(&f.ips, "ip", nil, "IP SANs to add (repeatable, comma lists)")
	fl.StringSliceVar(&f.emails, "email", nil, "email SANs (email belongs in the SAN, not the DN)")
	fl.BoolVar(&f.noDefaultSANs, "no-default-sans", false, "broker, controller, zookeeper: drop the default SANs (NAME, localhost, 127.0.0.1)")
	fl.IntVar(&f.days, "days", 0, "validity in days (default: the PKI's leaf default, 365)")
}

// request builds a validated certificate request for name.
func (f *certFlags) request(name string) (pki.CertRequest, error) {
	role, err := pki.ParseRole(f.role)
	if err != nil {
		return pki.CertRequest{}, usageErr("--role: %v", err)
	}
	var base pki.SANs
	if role.Spec().DefaultSANs && !f.noDefaultSANs {
		base = pki.DefaultServerSANs(name)
	}
	sans, err := pki.BuildSANs(base, f.dns, f.ips, f.emails)
	if err != nil {
		return pki.CertRequest{}, usageErr("%w", err)
	}
	if f.days < 0 {
		return pki.CertRequest{}, usageErr("--days %d: must be positive", f.days)
	}
	return pki.CertRequest{Name: name, Role: role, Subject: f.subject, SANs: sans, Days: f.days}, nil
}

// outputFlags choose the store formats, PKCS12 profile and config paths.
type outputFlags struct {
	formats   []string
	compat    string
	mountPath string
	force     bool
}

func (o *outputFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringSliceVar(&o.formats, "formats", []string{"jks", "p12", "pem"}, "store formats to write: jks, p12, pem")
	fl.StringVar(&o.compat, "p12-compat", "modern", "PKCS12 profile: modern (AES-256, Java 8u301+/11.0.12+, OpenSSL 3) or legacy (3DES/SHA1 for older Java)")
	fl.StringVar(&o.mountPath, "mount-path", "", "write config paths under this directory (e.g. /etc/kafka/secrets) instead of the host path")
	fl.BoolVar(&o.force, "force", false, "replace an existing certificate and its files")
}

func (o *outputFlags) options(password string) (identity.Options, error) {
	formats, err := identity.ParseFormats(o.formats)
	if err != nil {
		return identity.Options{}, usageErr("--formats: %v", err)
	}
	compat, err := stores.ParseCompat(o.compat)
	if err != nil {
		return identity.Options{}, usageErr("--p12-compat: %v", err)
	}
	mount := o.mountPath
	if mount != "" && !strings.HasPrefix(mount, "/") {
		return identity.Options{}, usageErr("--mount-path %q: must be an absolute path", mount)
	}
	return identity.Options{Formats: formats, Compat: compat, Password: password, MountPath: mount, Force: o.force}, nil
}

func newIssueCmd(g *globals) *cobra.Command {
	var (
		cf        certFlags
		of        outputFlags
		pw        storePassword
		pass      caPassphrase
		advertise string
		cw        connectFlags
		mm        mirrorMakerFlags
		sf        saslFlags
	)
	c := &cobra.Command{
		Use:   "issue NAME",
		Short: "Issue a certificate and write its stores, PEM files, password and configs",
		Long: `issue generates a key, signs a certificate for NAME with the role's key usages
(client: clientAuth; broker, controller, zookeeper: serverAuth and clientAuth;
server, any other TLS service such as an IdP or a REST proxy: serverAuth only;
connect, a Kafka Connect worker: serverAuth and clientAuth)
and writes DIR/certs/NAME/: keystore.jks, truststore.jks, keystore.p12,
truststore.p12, tls.key, tls.crt, chain.pem, ca.crt, keystore.pem, password,
principal.txt, and the role's configs (client.properties and kcat.conf;
server.properties; zoo.cfg and zookeeper-client.properties; for a server,
server-tls.txt, which names the files to point it at; for a Connect worker,
connect-distributed.properties, connect-standalone.properties and
connect-rest-curl.sh, its REST listener on https://NAME:8443 unless --port; for a
mirrormaker, mirrormaker-cluster.properties: --cluster-alias ALIAS and the ALIAS.-prefixed
settings of one cluster, which "kafkatls mirrormaker config" combines with
the other cluster's).
Brokers, controllers and ZooKeeper servers get the SANs NAME, localhost and
127.0.0.1 plus --dns/--ip; a server gets exactly --dns/--ip, one at least.
A broker advertises NAME:9093 (advertised.listeners, and bootstrap.servers in
its client.properties) unless --advertise HOST[:PORT] says otherwise; the
host is added to the SANs. If the advertised host does not resolve on this
machine, issue says so in one line on stderr (it may resolve where the broker
runs; KAFKATLS_NO_RESOLVE=1 skips the lookup).
SASL_SSL (docs/sasl.md): a client with --auth scram-sha-512|scram-sha-256 gets a
password (scram-password, 0600) and configs that log in with it on the brokers'
SASL_SSL listener, as User:NAME; with --auth oauthbearer a token from the
directory's token issuer (kafkatls oauth init; token.jwt, 0600). A broker with
--sasl MECHANISMS gets a SASL_SSL listener on --sasl-port beside its SSL one.`,
		Example: `  kafkatls issue client1
  kafkatls issue kafka-1 --role broker --dns kafka-1.example.com,kafka.example.com --ip 10.0.0.11
  kafkatls issue kafka-1 --role broker --advertise kafka-1.example.com:9093
  kafkatls issue idp --role server --dns idp.example.com
  kafkatls issue connect-1 --role connect --bootstrap kafka-1:9093 --group etl --dns connect-1.example.com
  kafkatls issue mm2 --role mirrormaker --cluster-alias A --cluster-bootstrap kafka-a1:9093,kafka-a2:9093
  kafkatls issue app --subject "CN=app,OU=ServiceUsers,O=Acme" --formats pem
  kafkatls issue kafka-1 --role broker --mount-path /etc/kafka/secrets --force
  kafkatls issue kafka-1 --role broker --sasl scram-sha-512,oauthbearer
  kafkatls issue orders-app --auth scram-sha-512
  kafkatls issue billing --auth oauthbearer --scope kafka.read`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := identity.ValidateName(name); err != nil {
				return usageErr("%v", err)
			}
			if err := positiveDays(cmd, "days"); err != nil {
				return err
			}
			var adv identity.Advertise
			var err error
			if advertise != "" {
				if r, _ := pki.ParseRole(cf.role); !r.Spec().Advertises {
					return usageErr("--advertise: only a broker or a controller advertises an address, not a %s", cf.role)
				}
				if adv, err = identity.ParseAdvertise(advertise); err != nil {
					return usageErr("--advertise: %v", err)
				}
				if adv.IsIP() {
					cf.ips = append(cf.ips, adv.Host)
				} else {
					cf.dns = append(cf.dns, adv.Host)
				}
			}
			req, err := cf.request(name)
			if err != nil {
				return err
			}
			if err := cw.check(cmd, req.Role); err != nil {
				return err
			}
			password, err := pw.get()
			if err != nil {
				return err
			}
			opts, err := of.options(password)
			if err != nil {
				return err
			}
			if adv.Host != "" {
				opts.Config.Hosts, opts.Config.ListenerPort = []string{adv.Host}, adv.Port
			}
			if err := identity.CheckFormats(req.Role, opts.Formats); err != nil {
				return usageErr("--formats: %v", err)
			}
			if req.Role == pki.RoleConnect {
				cw.apply(&opts.Config)
			}
			if err := mm.apply(req.Role, &opts.Config); err != nil {
				return err
			}
			if err := sf.apply(&opts, req.Role, g.dir); err != nil {
				return err
			}
			var res *identity.Result
			err = pki.Update(cmd.Context(), g.dir, pki.UpdateOptions{Passphrase: pass.prompt, Engines: g.engines()}, func(tx *pki.Tx) error {
				res, err = identity.Issue(tx, req, tx.PKI.Settings.Key, opts)
				return err
			})
			if err != nil {
				return err
			}
			if res.Role.Spec().Bootstrap {
				host := adv.Host
				if host == "" && len(res.SANs) > 0 { // the configs advertise the first SAN
					host = strings.TrimPrefix(strings.TrimPrefix(res.SANs[0], "DNS:"), "IP:")
				}
				g.warnUnresolved(cmd.Context(), []string{host}, "advertised.listeners and the bootstrap.servers of client.properties use it; --advertise HOST[:PORT] names the host clients dial")
			}
			if strings.Contains(res.Subject, emailOID) {
				g.warn("the subject holds an email address: Java prints it as %s#hex in the principal; put it in the SAN with --email instead", emailOID)
			}
			return g.emit(res, func(w io.Writer) { printEntity(w, res) })
		},
	}
	cf.register(c, true)
	of.register(c)
	c.Flags().StringVar(&advertise, "advertise", "", "broker: the HOST[:PORT] clients dial (advertised.listeners, bootstrap.servers; added to the SANs); default NAME:9093")
	cw.register(c)
	mm.register(c)
	pw.register(c)
	pass.register(c)
	sf.register(c)
	return c
}

// resolveTimeout bounds the lookups of advertised hosts.
const resolveTimeout = 2 * time.Second

// warnUnresolved says, in one line on stderr, which of hosts do not
// resolve on this machine and why that matters (why). Not an error: they
// may resolve where the servers and clients run. KAFKATLS_NO_RESOLVE=1
// skips the lookups (tests, offline machines).
func (g *globals) warnUnresolved(ctx context.Context, hosts []string, why string) {
	if os.Getenv("KAFKATLS_NO_RESOLVE") == "1" || len(hosts) == 0 {
		return
	}
	bad := identity.Unresolved(ctx, hosts, resolveTimeout)
	switch len(bad) {
	case 0:
		return
	case 1:
		g.warn("%s does not resolve on this machine: %s", bad[0], why)
	default:
		g.warn("%s do not resolve on this machine: %s", strings.Join(bad, ", "), why)
	}
}

// emailOID is how Java prints an emailAddress attribute in a DN.
const emailOID = "1.2.840.113549.1.9.1="

func printEntity(w io.Writer, r *identity.Result) {
	fmt.Fprintf(w, "Issued %s %s in %s\n", r.Role, r.Name, r.Dir)
	fmt.Fprintf(w, "  subject    %s\n", r.Subject)
	fmt.Fprintf(w, "  principal  %s\n", r.Principal)
	if r.Auth != "" {
		fmt.Fprintf(w, "  auth       %s\n", r.Auth)
	}
	if len(r.SANs) > 0 {
		fmt.Fprintf(w, "  SANs       %s\n", strings.Join(r.SANs, ", "))
	}
	fmt.Fprintf(w, "  expires    %s   serial %s\n", r.NotAfter.Format(time.DateOnly), r.Serial)
	fmt.Fprintf(w, "  files      %s\n", strings.Join(r.Files, " "))
}
