package wizard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"charm.land/huh/v2"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
)

// stepKind is one screen of the wizard.
type stepKind int

const (
	stepDir stepKind = iota
	stepExistingCA
	stepSigner
	stepCA
	stepMode
	stepBroker
	stepController
	stepZooKeeper
	stepClient
	stepServices // other services: whether Connect workers and TLS servers follow
	stepConnect
	stepServer
	stepRuntimes
	stepPasswords
	stepMount
	stepSummary
	stepGenerate
	stepVerify
	stepDone
)

// frame is an entry of the step stack: a step and, for the repeated node
// and client steps, which one.
type frame struct {
	kind stepKind
	i    int
}

// totalSteps is what the header counts to.
const totalSteps = 13

func (f frame) number() int {
	return map[stepKind]int{stepDir: 1, stepExistingCA: 2, stepSigner: 2, stepCA: 3, stepMode: 4, stepBroker: 5, stepController: 6, stepZooKeeper: 6,
		stepClient: 7, stepServices: 8, stepConnect: 8, stepServer: 8,
		stepRuntimes: 9, stepPasswords: 10, stepMount: 11, stepSummary: 12, stepGenerate: 13, stepVerify: 13, stepDone: 13}[f.kind]
}

func (f frame) title() string {
	switch f.kind {
	case stepDir:
		return "PKI directory"
	case stepExistingCA:
		return "Existing CA"
	case stepSigner:
		return "Signing"
	case stepCA:
		return "Certificate authority"
	case stepMode:
		return "Cluster mode"
	case stepBroker:
		return fmt.Sprintf("%s %d", pki.RoleBroker.Spec().Display, f.i+1)
	case stepController:
		return fmt.Sprintf("%s %d", pki.RoleController.Spec().Display, f.i+1)
	case stepZooKeeper:
		return fmt.Sprintf("%s %d", pki.RoleZooKeeper.Spec().Display, f.i+1)
	case stepClient:
		return fmt.Sprintf("%s %d", pki.RoleClient.Spec().Display, f.i+1)
	case stepServices:
		return "Other services"
	case stepConnect:
		return fmt.Sprintf("%s %d", pki.RoleConnect.Spec().Display, f.i+1)
	case stepServer:
		return fmt.Sprintf("%s %d", pki.RoleServer.Spec().Display, f.i+1)
	case stepRuntimes:
		return "Client runtimes"
	case stepPasswords:
		return "Passwords"
	case stepMount:
		return "Container mount path"
	case stepSummary:
		return "Summary"
	case stepGenerate:
		return "Generating"
	case stepVerify:
		return "Verifying"
	}
	return "Done"
}

// isForm reports whether the step is a huh form (back-navigable input).
func (f frame) isForm() bool { return f.kind < stepSummary }

// keyMap is huh's default without its own Ctrl-C handling (the model
// cancels) and without select filtering (Esc is "back a step").
func keyMap() *huh.KeyMap {
	k := huh.NewDefaultKeyMap()
	k.Quit.SetEnabled(false)
	k.Select.Filter.SetEnabled(false)
	k.MultiSelect.Filter.SetEnabled(false)
	return k
}

// buildForm returns the form of a step, bound to the answers so that going
// back to a step shows what was entered.
//
// Text that depends on other answers (SAN previews, principals, variable
// lists) is recomputed by watchers on the program's goroutine after each
// update, not with huh's *Func callbacks, which run in command goroutines
// and would read the answers while huh writes them.
func (m *Model) buildForm(f frame) *huh.Form {
	a := m.a
	m.watchers = nil
	var groups []*huh.Group
	switch f.kind {
	case stepDir:
		in := huh.NewInput().Title("PKI directory").Value(&a.Dir).Validate(validateDir)
		m.watch(func() string { return a.Dir }, func() { in.Description(dirStatus(a.Dir)) })
		groups = append(groups, huh.NewGroup(in))
	case stepExistingCA:
		groups = append(groups, huh.NewGroup(
			huh.NewNote().Title("This directory already holds a CA").Description(noteEscape(m.existingText())),
			huh.NewSelect[bool]().Title("Issue the bundle from it?").Value(&a.ReuseCA).Options(
				huh.NewOption("Reuse this CA (its subject and key type apply)", true),
				huh.NewOption("No: choose another directory", false)),
		))
		if m.existing != nil && m.existing.Settings.CAKeyEncrypted && len(m.opts.CAPassphrase) == 0 {
			groups = append(groups, huh.NewGroup(
				huh.NewInput().Title("CA key passphrase").Description("The CA key is encrypted: its passphrase decrypts it for signing.").
					EchoMode(huh.EchoModePassword).Value(&m.passInput).Validate(m.checkExistingPassphrase),
			).WithHideFunc(func() bool { return !a.ReuseCA }))
		}
	case stepSigner:
		addr := huh.NewInput().Title("Engine address").Value(&a.EngineAddress).Validate(m.validateEngineAddress)
		token := huh.NewNote().Title("Token")
		m.watch(func() string { return a.EngineAddress + "\x00" + m.tokenStatus() }, func() {
			desc := "Saved in kafkatls.yaml so `bundle -f` reaches it on any runner."
			if strings.TrimSpace(a.EngineAddress) == "" {
				desc = "Empty: VAULT_ADDR at each run"
				if v, ok := m.lookupEnv("VAULT_ADDR"); ok && v != "" {
					desc += " (now " + v + ")"
				}
				desc += "."
			}
			addr.Description(desc)
			token.Description(noteEscape(m.tokenStatus()))
		})
		groups = append(groups,
			huh.NewGroup(huh.NewSelect[string]().Title("Who signs the certificates?").Value(&a.Signer).Options(
				huh.NewOption("A CA kept in this directory (default)", SignerLocal),
				huh.NewOption("A Vault or OpenBao PKI engine (the CA key stays there)", SignerVault),
				huh.NewOption("A step-ca JWK provisioner (the CA key stays there)", SignerStep)).
				Description("Keys are made here either way; an engine only signs CSRs.")),
			huh.NewGroup(
				addr,
				huh.NewInput().Title("PKI mount").Value(&a.EngineMount).Validate(func(s string) error { return ValidateEnginePath("mount", s) }),
				huh.NewInput().Title("Role").Description("Its settings for Kafka: docs/engines.md (or kafkatls init --engine vault --setup).").
					Value(&a.EngineRole).Validate(func(s string) error { return ValidateEnginePath("role", s) }),
				token,
			).Title("Vault / OpenBao").WithHideFunc(func() bool { return a.Signer != SignerVault }),
		)
		stepURL := huh.NewInput().Title("step-ca URL").Value(&a.StepURL).Validate(m.validateStepURL)
		root := huh.NewInput().Title("Root certificate file").Value(&a.StepRoot).Validate(func(s string) error { _, err := ReadStepRoot(s); return err })
		password := huh.NewNote().Title("Provisioner password")
		m.watch(func() string { return a.StepURL + "\x00" + a.StepRoot + "\x00" + m.passwordStatus() }, func() {
			desc := "Saved in kafkatls.yaml so `bundle -f` reaches it on any runner."
			if strings.TrimSpace(a.StepURL) == "" {
				desc = "Empty: " + stepca.EnvCAURL + " at each run"
				if v, ok := m.lookupEnv(stepca.EnvCAURL); ok && v != "" {
					desc += " (now " + v + ")"
				}
				desc += "."
			}
			stepURL.Description(desc)
			rdesc := "step-ca's root: `step ca root FILE` writes it."
			if c, err := ReadStepRoot(a.StepRoot); err == nil {
				subj, _ := principal.JavaName(c.RawSubject)
				rdesc = fmt.Sprintf("%s %s, expires %s.", m.st.okMark, subj, c.NotAfter.Format(time.DateOnly))
			}
			root.Description(rdesc)
			password.Description(noteEscape(m.passwordStatus()))
		})
		groups = append(groups, huh.NewGroup(
			stepURL,
			root,
			huh.NewInput().Title("Provisioner").Description("JWK; its template keeps the CSR's subject and SANs (docs/engines.md).").
				Value(&a.StepProvisioner).Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("give the provisioner's name")
				}
				return nil
			}),
			password,
		).Title("step-ca").WithHideFunc(func() bool { return a.Signer != SignerStep }))
	case stepCA:
		if a.Signer == SignerVault || a.Signer == SignerStep {
			// The engine's CA signs: what the wizard asks is the subject
			// every certificate gets, which the role's fields must equal
			// (Vault) or the provisioner's template must keep (step-ca).
			subjDesc := "The engine writes the subject from the CSR's CN and the role's\nfields: O, OU, C, L and ST must equal the role's organization, ou, ..."
			ecNote := "the role needs key_type=any or ec"
			if a.Signer == SignerStep {
				subjDesc = "Each CSR carries this subject; the provisioner's template must keep it\n(docs/engines.md)."
				ecNote = "Java 11+, librdkafka 1.x+"
			}
			groups = append(groups,
				huh.NewGroup(
					huh.NewInput().Title("Organization (O)").Description(subjDesc).Value(&a.CAOrg).Validate(dnValue),
					huh.NewInput().Title("Organizational unit (OU)").Value(&a.CAOU).Validate(dnValue),
					huh.NewInput().Title("Country (C, two letters)").Value(&a.CACountry).Validate(validateCountry),
				).Title("Subject of every certificate"),
				huh.NewGroup(
					huh.NewInput().Title("Locality (L)").Description("Optional.").Value(&a.CALocality).Validate(dnValue),
					huh.NewInput().Title("State or province (ST)").Description("Optional.").Value(&a.CAState).Validate(dnValue),
					huh.NewSelect[string]().Title("Key type (the identities' keys)").Value(&a.KeyType).Options(
						huh.NewOption("RSA 2048: works everywhere (default)", string(pki.RSA)),
						huh.NewOption("ECDSA P-256: smaller, faster ("+ecNote+")", string(pki.ECDSA))),
				).Title("Subject and key"),
			)
			break
		}
		groups = append(groups,
			huh.NewGroup(
				huh.NewInput().Title("CA common name (CN)").Value(&a.CACN).Validate(required("a CA common name")),
				huh.NewInput().Title("Organization (O)").Description("Optional. O, OU and C also go into every issued certificate's subject.").Value(&a.CAOrg).Validate(dnValue),
				huh.NewInput().Title("Organizational unit (OU)").Value(&a.CAOU).Validate(dnValue),
				huh.NewInput().Title("Country (C, two letters)").Value(&a.CACountry).Validate(validateCountry),
			).Title("CA subject"),
			huh.NewGroup(
				huh.NewInput().Title("Locality (L)").Description("Optional.").Value(&a.CALocality).Validate(dnValue),
				huh.NewInput().Title("State or province (ST)").Description("Optional.").Value(&a.CAState).Validate(dnValue),
				huh.NewSelect[string]().Title("Key type (CA and issued certificates)").Value(&a.KeyType).Options(
					huh.NewOption("RSA 2048: works everywhere (default)", string(pki.RSA)),
					huh.NewOption("ECDSA P-256: smaller, faster (Java 11+, librdkafka 1.x+)", string(pki.ECDSA))),
			).Title("CA subject and key"),
		)
		if len(m.opts.CAPassphrase) == 0 {
			// A new passphrase is typed twice: the key is encrypted under
			// it, and a typo nobody can repeat would lock the CA for good.
			groups = append(groups, huh.NewGroup(
				huh.NewInput().Title("CA key passphrase (optional)").
					Description("Encrypts the CA key at rest. Empty: stored unencrypted (mode 0600).\nCI then needs it in KAFKATLS_CA_PASSPHRASE.").
					EchoMode(huh.EchoModePassword).Value(&m.passInput).Validate(validatePassphrase),
			).Title("CA key"), huh.NewGroup(
				huh.NewInput().Title("Confirm the CA key passphrase").
					Description("Type it again: nothing can decrypt the CA key without it.").
					EchoMode(huh.EchoModePassword).Value(&m.passConfirm).Validate(m.confirmPassphrase),
			).Title("CA key").WithHideFunc(func() bool { return m.passInput == "" }))
		}
	case stepMode:
		groups = append(groups,
			huh.NewGroup(huh.NewSelect[string]().Title("How is the cluster coordinated?").Value(&a.Mode).Options(
				huh.NewOption("KRaft (Kafka 3.3+, the only mode of Kafka 4)", bundle.ModeKRaft),
				huh.NewOption("ZooKeeper (Kafka 3.x and older; ZooKeeper gets TLS too)", bundle.ModeZooKeeper))),
			huh.NewGroup(huh.NewSelect[bool]().Title("Dedicated KRaft controller nodes?").Value(&a.DedicatedControllers).Options(
				huh.NewOption("No: brokers run the controller role too (combined mode)", false),
				huh.NewOption("Yes: separate controllers, each with its own certificate", true)),
			).WithHideFunc(func() bool { return a.Mode != bundle.ModeKRaft }),
		)
	case stepBroker, stepController, stepZooKeeper:
		groups = append(groups, m.nodeGroup(f))
	case stepClient:
		c := a.Clients[f.i]
		access := huh.NewSelect[string]().Title("Access to the topic").Value(&c.Access).Options(
			huh.NewOption("Produce and consume", AccessBoth),
			huh.NewOption("Produce only", AccessProduce),
			huh.NewOption("Consume only", AccessConsume))
		m.watch(func() string { return c.Topic }, func() { access.Title("Access to topic " + c.Topic) })
		preview := huh.NewNote()
		m.watch(func() string { return fmt.Sprint(*c) }, func() { preview.Title("Client " + c.Name).Description(m.clientPreview(c)) })
		groups = append(groups,
			huh.NewGroup(
				huh.NewInput().Title("Client name").Description("Becomes CN= of its certificate and its Kafka principal.").
					Value(&c.Name).Validate(m.validateName(c)),
				huh.NewInput().Title("Topic it uses (optional)").Description("Empty: no ACLs. End with * for a prefix (orders.*).").
					Value(&c.Topic).Validate(ValidateTopic),
			),
			huh.NewGroup(
				access,
				huh.NewInput().Title("Consumer group").Description("Needed to consume. End with * if the topic is a prefix.").
					Value(&c.Group).Validate(func(string) error { _, _, err := ClientGrant(*c); return err }),
			).WithHideFunc(func() bool { return strings.TrimSpace(c.Topic) == "" }),
			huh.NewGroup(
				preview,
				huh.NewSelect[string]().Title("Authentication").Value(&c.Auth).Options(authOptions()...).
					Description("SASL ones add a SASL_SSL listener to the brokers (docs/sasl.md)."),
				huh.NewSelect[string]().Title("Add another client?").Value(&c.More).Options(
					huh.NewOption("No, continue", MoreNo), huh.NewOption("Yes, add another client", MoreYes)),
			),
		)
	case stepServices:
		groups = append(groups,
			huh.NewGroup(
				huh.NewSelect[bool]().Title("Kafka Connect workers?").Value(&a.WantConnect).Options(
					huh.NewOption("No", false),
					huh.NewOption("Yes: each gets a client certificate and an HTTPS REST keystore", true)).
					Description("Their configs, REST client line and ACLs: docs/connect.md."),
				huh.NewSelect[bool]().Title("Other TLS servers (an IdP, a REST proxy, a metrics endpoint)?").Value(&a.WantServers).Options(
					huh.NewOption("No", false),
					huh.NewOption("Yes: a server certificate for the names given, its stores", true)),
			),
			huh.NewGroup(
				huh.NewInput().Title("Connect group (group.id)").Description("Shared by the workers of one Connect cluster; defaults are Connect's sample names.").
					Value(&a.ConnectGroup).Validate(connectName("group")),
				huh.NewInput().Title("Config topic (config.storage.topic)").Value(&a.ConnectConfigTopic).Validate(connectName("config topic")),
				huh.NewInput().Title("Offset topic (offset.storage.topic)").Value(&a.ConnectOffsetTopic).Validate(connectName("offset topic")),
				huh.NewInput().Title("Status topic (status.storage.topic)").Value(&a.ConnectStatusTopic).Validate(func(s string) error {
					if err := connectName("status topic")(s); err != nil {
						return err
					}
					return a.ConnectWorker().WithDefaults().Validate() // three different topics
				}),
			).Title("Kafka Connect cluster").WithHideFunc(func() bool { return !a.WantConnect }),
		)
	case stepConnect, stepServer:
		groups = append(groups, m.nodeGroup(f))
	case stepRuntimes:
		opts := make([]huh.Option[string], len(Runtimes))
		for i, r := range Runtimes {
			opts[i] = huh.NewOption(r.Label, r.ID)
		}
		compat := huh.NewSelect[string]().Title("Oldest Java running Kafka or your Java clients?").Value(&a.P12Compat).Options(
			huh.NewOption("Java 8u301+, 11.0.12+ or 17+ (modern PKCS12, AES)", string(stores.Modern)),
			huh.NewOption("Older Java 8 or 11 (legacy PKCS12, 3DES)", string(stores.Legacy)))
		m.watch(func() string { return fmt.Sprint(a.Runtimes) }, func() {
			compat.Description("Stores written: " + strings.Join(Formats(a.Runtimes), ", ") + " (brokers and Connect always get PKCS12)")
		})
		groups = append(groups,
			huh.NewGroup(huh.NewMultiSelect[string]().Title("Which runtimes will your clients use?").
				Description("x or space toggles, enter confirms. Decides the store formats.").
				Options(opts...).Value(&a.Runtimes).Filterable(false).Height(len(opts)+2).
				Validate(func(v []string) error {
					if len(v) == 0 {
						return errors.New("pick at least one runtime")
					}
					return nil
				})),
			huh.NewGroup(compat),
		)
	case stepPasswords:
		prefix := huh.NewInput().Title("Variable prefix").Value(&a.EnvPrefix).Validate(m.validateEnv)
		// Not cached: the variables' state can change between keys.
		m.watch(func() string { return m.envStatus() }, func() { prefix.Description(m.envStatus()) })
		groups = append(groups,
			huh.NewGroup(huh.NewSelect[string]().Title("Store and key passwords").Value(&a.PasswordMode).Options(
				huh.NewOption("Generate a random one per identity (saved in certs/NAME/password)", PasswordGenerated),
				huh.NewOption("Read one per identity from environment variables", PasswordEnv))),
			huh.NewGroup(
				prefix,
			).WithHideFunc(func() bool { return a.PasswordMode != PasswordEnv }),
		)
	case stepMount:
		groups = append(groups, huh.NewGroup(
			huh.NewInput().Title("Container mount path (optional)").
				Description("E.g. /etc/kafka/secrets: configs then point there instead of this\nhost's paths; mount certs/NAME there in each container. Empty: host paths.").
				Value(&a.MountPath).Validate(func(s string) error {
				if s = strings.TrimSpace(s); s != "" && !strings.HasPrefix(s, "/") {
					return fmt.Errorf("%q: must be an absolute path inside the container", s)
				}
				return nil
			}),
		))
	}
	form := huh.NewForm(groups...).WithTheme(formTheme(m.opts.NoColor)).WithKeyMap(keyMap()).WithShowHelp(true)
	return form
}

// nodeGroup is the form of one broker, controller or ZooKeeper node: its
// name, advertised hostnames and IPs, the SANs it will get (updated as
// typed) and whether another follows.
func (m *Model) nodeGroup(f frame) *huh.Group {
	list, kind := m.nodeList(f.kind)
	n := (*list)[f.i]
	hostHelp := map[stepKind]string{
		stepBroker:     "Names clients dial (advertised.listeners), comma separated.",
		stepController: "Names brokers and controllers dial, comma separated.",
		stepZooKeeper:  "Names brokers dial in zookeeper.connect, comma separated.",
		stepConnect:    "REST hostnames, comma separated; the first goes in listeners=https://HOST:8443.",
		stepServer:     "Names its clients dial, comma separated (at least one name or IP).",
	}[f.kind]
	sansOf := NodeSANs
	if f.kind == stepServer {
		sansOf = ServerSANs
	}
	sans := huh.NewNote().Title("Certificate SANs")
	m.watch(func() string { return fmt.Sprint(*n) }, func() {
		// Wrapped here, at commas, so huh does not break inside an address.
		text := ""
		if s, err := sansOf(*n); err != nil {
			text = m.st.badMark + " " + explain(err)
		} else {
			text = s.String()
		}
		lines := wrapLines(text, max(m.width-6, 20))
		for i, l := range lines {
			lines[i] = noteEscape(l)
			if strings.HasPrefix(text, m.st.badMark) {
				lines[i] = m.st.bad.Render(lines[i])
			}
		}
		sans.Description(strings.Join(lines, "\n"))
	})
	hostTitle, ipTitle := "Hostnames (optional)", "IP addresses (optional)"
	if f.kind == stepServer {
		hostTitle, ipTitle = "DNS names", "IP addresses"
	}
	ips := huh.NewInput().Title(ipTitle).Description("Addresses clients dial directly, comma separated.").Value(&n.IPs).Validate(ValidateIPs)
	if f.kind == stepServer {
		// The last of the two fields checks that one of them names it.
		ips.Validate(func(string) error { _, err := ServerSANs(*n); return err })
	}
	return huh.NewGroup(
		huh.NewInput().Title(kind+" name").Value(&n.Name).Validate(m.validateName(n)),
		huh.NewInput().Title(hostTitle).Description(hostHelp).
			Value(&n.Hosts).Validate(ValidateHosts),
		ips,
		sans,
		huh.NewSelect[string]().Title("Add another "+strings.ToLower(kind)+"?").Value(&n.More).Options(
			huh.NewOption("No, continue", MoreNo), huh.NewOption("Yes, add another "+strings.ToLower(kind), MoreYes)),
	)
}

func (m *Model) nodeList(k stepKind) (*[]*NodeAnswer, string) {
	switch k {
	case stepController:
		return &m.a.Controllers, "Controller"
	case stepZooKeeper:
		return &m.a.ZooKeepers, "ZooKeeper"
	case stepConnect:
		return &m.a.Connect, "Connect worker"
	case stepServer:
		return &m.a.Servers, "TLS server"
	}
	return &m.a.Brokers, "Broker"
}

func (m *Model) validateName(self any) func(string) error {
	return func(s string) error {
		if err := identity.ValidateName(strings.TrimSpace(s)); err != nil {
			return err
		}
		if m.a.DuplicateName(s, self) {
			return fmt.Errorf("%q is already used: names must be unique across the bundle", s)
		}
		return nil
	}
}

// connectName checks a Connect group or internal topic name: a name (no
// prefix), of the characters a topic may hold.
func connectName(what string) func(string) error {
	return func(s string) error {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return errors.New("give the Connect " + what)
		case strings.Contains(s, "*"):
			return fmt.Errorf("%s %q: a name, not a prefix", what, s)
		}
		return ValidateTopic(s)
	}
}

func required(what string) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("give " + what)
		}
		return dnValue(s)
	}
}

func dnValue(s string) error {
	if s == "" {
		return nil
	}
	if _, err := principal.ParseDN("CN=" + pki.EscapeDNValue(strings.TrimSpace(s))); err != nil {
		return err
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return errors.New("control characters are not allowed")
		}
	}
	return nil
}

func validateCountry(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if len(s) != 2 || !isLetters(s) {
		return fmt.Errorf("country %q: two letters (ISO 3166), e.g. GB or US", s)
	}
	return nil
}

func isLetters(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validatePassphrase(s string) error {
	if s != "" && len(s) < 8 {
		return errors.New("use at least 8 characters (or leave it empty)")
	}
	return nil
}

// errPassphraseMismatch is the confirmation field's refusal.
var errPassphraseMismatch = errors.New("the two passphrases differ: type the passphrase again (shift+tab goes back to change the first)")

// confirmPassphrase checks the confirmation of a new CA passphrase.
func (m *Model) confirmPassphrase(s string) error {
	if s != m.passInput {
		return errPassphraseMismatch
	}
	return nil
}

// validateEngineAddress refuses a malformed address, and an empty one
// when VAULT_ADDR is not set either.
func (m *Model) validateEngineAddress(s string) error {
	if err := ValidateEngineAddress(s); err != nil {
		return err
	}
	if strings.TrimSpace(s) == "" {
		if v, ok := m.lookupEnv("VAULT_ADDR"); !ok || v == "" {
			return errors.New("give the engine address (VAULT_ADDR is not set either)")
		}
	}
	return nil
}

// tokenStatus says where the engine token will come from; it is read at
// each run and never written into the spec or the PKI directory.
func (m *Model) tokenStatus() string {
	switch {
	case m.opts.VaultTokenFile != "":
		return "From " + m.opts.VaultTokenFile + " (--vault-token-file) at each run; never saved."
	default:
		if v, ok := m.lookupEnv("VAULT_TOKEN"); ok && v != "" {
			return "From VAULT_TOKEN (set) at each run; never saved."
		}
		return m.st.badMark + " VAULT_TOKEN is not set: export it, or start the wizard with --vault-token-file FILE. It is never saved."
	}
}

// validateStepURL refuses a malformed step-ca URL, and an empty one when
// STEP_CA_URL is not set either.
func (m *Model) validateStepURL(s string) error {
	if err := ValidateStepURL(s); err != nil {
		return err
	}
	if strings.TrimSpace(s) == "" {
		if v, ok := m.lookupEnv(stepca.EnvCAURL); !ok || v == "" {
			return errors.New("give step-ca's URL (" + stepca.EnvCAURL + " is not set either)")
		}
	}
	return nil
}

// passwordStatus says where the step-ca provisioner password will come
// from; it is read at each run and never written into the spec or the PKI
// directory.
func (m *Model) passwordStatus() string {
	if f := m.opts.ProvisionerPasswordFile; f != "" {
		return "From " + f + " (--provisioner-password-file) at each run; never saved."
	}
	if f, ok := m.lookupEnv(stepca.EnvPasswordFile); ok && f != "" {
		return "From " + f + " (" + stepca.EnvPasswordFile + ") at each run; never saved."
	}
	return m.st.badMark + " " + stepca.EnvPasswordFile + " is not set: export it (the password file's path), or start the wizard with --provisioner-password-file FILE. It is never saved."
}

func validateDir(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("give a directory")
	}
	st, err := os.Stat(s)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("%s is a file, not a directory", s)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	if _, err := pki.Open(s, nil); err != nil && !errors.Is(err, pki.ErrNoCA) {
		return fmt.Errorf("cannot read the CA in %s: %v", s, err)
	}
	return nil
}

// dirStatus says what is in a directory, updated as the path is typed.
func dirStatus(dir string) string {
	dir = strings.TrimSpace(dir)
	if dir == "" {
		return "Where the CA, every identity and the bundle files go."
	}
	p, err := pki.Open(dir, nil)
	switch {
	case err == nil:
		subj, _ := principal.JavaName(p.CA.RawSubject)
		if e := p.Settings.Engine; e != nil {
			return fmt.Sprintf("Signed by engine %s (CA %s): it can be reused.", e, subj)
		}
		return fmt.Sprintf("Holds a CA (%s, expires %s): it can be reused.", subj, p.CA.NotAfter.Format(time.DateOnly))
	case errors.Is(err, pki.ErrNoCA):
		if _, err := os.Stat(dir); err == nil {
			return "Exists, no CA yet: a new CA will be created in it."
		}
		return "Does not exist yet: it will be created with a new CA."
	}
	return "Cannot read the CA: " + err.Error()
}

func (m *Model) existingText() string {
	p := m.existing
	if p == nil {
		return ""
	}
	subj, _ := principal.JavaName(p.CA.RawSubject)
	enc := "key unencrypted"
	switch {
	case p.Settings.Engine != nil:
		enc = "signed by engine " + p.Settings.Engine.String() + " (no CA key here)"
	case p.Settings.CAKeyEncrypted:
		enc = "key encrypted"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s, %s, expires %s\nSHA-256 %s", subj, pki.KeySpecOf(p.CA.PublicKey), enc, p.CA.NotAfter.Format(time.DateOnly), shortFP(pki.Fingerprint(p.CA)))
	if idx, err := pki.LoadIndex(p.Dir); err == nil {
		n := 0
		for _, r := range idx.Records {
			if r.Status == pki.StatusValid {
				n++
			}
		}
		fmt.Fprintf(&b, "\n%d identities issued so far (kept unless the bundle changes them)", n)
	}
	if _, err := os.Stat(filepath.Join(p.Dir, bundle.SpecFile)); err == nil {
		fmt.Fprintf(&b, "\n%s exists and will be replaced by this wizard's answers", bundle.SpecFile)
	}
	return b.String()
}

func shortFP(fp string) string {
	if len(fp) > 47 {
		return fp[:47] + "…"
	}
	return fp
}

func (m *Model) checkExistingPassphrase(s string) error {
	if !m.a.ReuseCA {
		return nil
	}
	if s == "" {
		return errors.New("the CA key is encrypted: give its passphrase")
	}
	p, err := pki.Open(m.existing.Dir, func() ([]byte, error) { return []byte(s), nil })
	if err != nil {
		return err
	}
	if _, err := p.Signer(); err != nil {
		return errors.New("wrong passphrase: the CA key did not decrypt")
	}
	return nil
}

// subjectDN is the DN an entity named name will get.
func (m *Model) subjectDN(name string) string {
	subj := pki.SubjectDefaults{OrganizationalUnit: m.a.CAOU, Organization: m.a.CAOrg, Locality: m.a.CALocality, State: m.a.CAState, Country: strings.ToUpper(m.a.CACountry)}
	if m.a.ReuseCA && m.existing != nil {
		subj = m.existing.Settings.Subject
	}
	dn := subj.DN(strings.TrimSpace(name))
	if der, err := principal.ParseDN(dn); err == nil {
		if j, err := principal.JavaName(der); err == nil {
			return j
		}
	}
	return dn
}

func authOptions() []huh.Option[string] {
	var out []huh.Option[string]
	for _, c := range AuthChoices {
		out = append(out, huh.NewOption(c.Label, c.ID))
	}
	return out
}

func (m *Model) clientPreview(c *ClientAnswer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Principal %s", noteEscape(ClientPrincipal(*c, m.subjectDN(c.Name))))
	if a, err := ClientAuth(*c); err == nil && a.Spec().OAuth && !m.hasIssuer() {
		b.WriteString("\nNo token issuer yet: generating makes one (as oauth init)")
	}
	g, ok, err := ClientGrant(*c)
	switch {
	case err != nil:
		b.WriteString("\n" + m.st.bad.Render(m.st.badMark+" "+noteEscape(err.Error())))
	case ok:
		b.WriteString("\nACLs: " + noteEscape(GrantText(g)))
	default:
		b.WriteString("\nNo topic: no ACLs (add grants in kafkatls.yaml later)")
	}
	return b.String()
}

func (m *Model) validateEnv(prefix string) error {
	if err := ValidateEnvPrefix(prefix); err != nil {
		return err
	}
	if missing := m.a.MissingEnv(m.lookupEnv); len(missing) > 0 {
		return fmt.Errorf("%s (export them and restart, or choose generated passwords)", strings.Join(missing, "; "))
	}
	return nil
}

func (m *Model) envStatus() string {
	if err := ValidateEnvPrefix(m.a.EnvPrefix); err != nil {
		return m.st.bad.Render(m.st.badMark + " " + err.Error())
	}
	var b strings.Builder
	b.WriteString("Each identity reads its password from:")
	for _, n := range m.a.EntityNames() {
		v := EnvVar(m.a.EnvPrefix, n)
		mark := m.st.ok.Render(m.st.okMark + " set")
		if pw, ok := m.lookupEnv(v); !ok {
			mark = m.st.bad.Render(m.st.badMark + " not set")
		} else if err := pki.ValidatePassword(pw); err != nil {
			mark = m.st.bad.Render(m.st.badMark + " " + err.Error())
		}
		fmt.Fprintf(&b, "\n  %s  %s", v, mark)
	}
	return b.String()
}

// noteEscape protects text shown in a huh Note, whose descriptions treat
// _ * and ` as markup (hostnames and DNs may hold them).
func noteEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune("\\_*`", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// hasIssuer reports whether the directory already holds the local token
// issuer (OAUTHBEARER tokens kafkatls mints).
func (m *Model) hasIssuer() bool {
	_, err := sasl.OpenIssuer(strings.TrimSpace(m.a.Dir))
	return err == nil
}
