package wizard

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/sasl"
)

// identityFileGroups groups the preview's identities that hold the same
// files (every identity of a role, as a rule), in preview order: the
// names of each group and their files.
func identityFileGroups(pv *bundle.Preview) (names [][]string, files [][]string) {
	at := map[string]int{}
	for _, e := range pv.Identities {
		key := strings.Join(e.Files, " ")
		i, ok := at[key]
		if !ok {
			i = len(names)
			at[key] = i
			names, files = append(names, nil), append(files, e.Files)
		}
		names[i] = append(names[i], e.Name)
	}
	return names, files
}

// bundleFiles are the bundle-level files the wizard's run leaves in the
// PKI directory: the preview's, and the spec the wizard saves.
func bundleFiles(pv *bundle.Preview) []string {
	return append(slices.Clone(pv.Files), pv.SpecFile)
}

// GrantText describes a grant in a few words.
func GrantText(g kafkaacl.Grant) string {
	var what []string
	if g.Producer {
		what = append(what, "produce")
	}
	if g.Consumer {
		what = append(what, "consume")
	}
	what = append(what, g.Operations...)
	star := ""
	if g.Prefixed {
		star = "*"
	}
	s := strings.Join(what, "+")
	if g.Topic != "" {
		s += " topic " + g.Topic + star
	}
	if g.Group != "" {
		s += ", group " + g.Group + star
	}
	return s
}

// EquivalentCommand is the non-interactive command that rebuilds the same
// bundle from the spec the wizard wrote.
func EquivalentCommand(dir string) string {
	return "kafkatls bundle -f " + kafkaacl.ShellQuote(filepath.Join(dir, bundle.SpecFile)) + " --dir " + kafkaacl.ShellQuote(dir)
}

// credential is the engine credential an engine-signed run needs: its name
// (Token, Password), where this run reads it, and how a CI run gives it.
type credential struct{ label, where, ci string }

// summaryText renders what a run of spec in dir will produce: the plan's
// identities with principals and SANs, the files of each directory and
// the bundle-level files. reused is the engine of a reused directory that
// an engine signs for (nil otherwise).
func summaryText(a *Answers, spec *bundle.Spec, plan *bundle.Plan, st styles, passphrase bool, reused *pki.EngineSettings, cred credential) string {
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "%s %s\n", st.key.Render(fmt.Sprintf("%-10s", k)), v) }
	switch {
	case plan.CreateCA && spec.CA.Engine != "":
		row("Directory", a.Dir+" (new PKI)")
		subj := pki.SubjectDefaults{OrganizationalUnit: spec.CA.OU, Organization: spec.CA.Org, Locality: spec.CA.Locality, State: spec.CA.State, Country: spec.CA.Country}
		k, _ := pki.KeySpec{Type: pki.KeyType(spec.CA.KeyType)}.Normalize()
		row("CA", fmt.Sprintf("the engine's: %s signs (no CA key here); subjects %s, %s keys", spec.CA.EngineSettings(), subj.DN("NAME"), k))
		row(cred.label, cred.where)
	case plan.CreateCA:
		row("Directory", a.Dir+" (new PKI)")
		enc := "key unencrypted (0600)"
		if passphrase {
			enc = "key encrypted with the passphrase"
		}
		subj := pki.SubjectDefaults{OrganizationalUnit: spec.CA.OU, Organization: spec.CA.Org, Locality: spec.CA.Locality, State: spec.CA.State, Country: spec.CA.Country}
		k, _ := pki.KeySpec{Type: pki.KeyType(spec.CA.KeyType)}.Normalize()
		row("CA", fmt.Sprintf("create %s (%s), %s", subj.DN(spec.CA.CN), k, enc))
	case reused != nil:
		row("Directory", a.Dir+" (existing PKI reused)")
		row("CA", fmt.Sprintf("the engine's: %s signs", reused))
		row(cred.label, cred.where)
	default:
		row("Directory", a.Dir+" (existing CA reused)")
	}
	mode := "KRaft"
	if plan.Mode == bundle.ModeZooKeeper {
		mode = "ZooKeeper"
	}
	row("Cluster", mode+", bootstrap "+plan.Preview.Bootstrap)
	compat := spec.Defaults.P12Compat
	if compat == "" {
		compat = "modern"
	}
	pw := "generated per identity (certs/NAME/password)"
	if a.PasswordMode == PasswordEnv {
		pw = "from $" + a.EnvPrefix + "<NAME>"
	}
	row("Stores", strings.Join(spec.Defaults.Formats, ", ")+" · PKCS12 "+compat)
	row("Passwords", pw)
	if spec.Defaults.MountPath != "" {
		row("Configs", "paths under "+spec.Defaults.MountPath+" (container mount)")
	} else {
		row("Configs", "absolute host paths")
	}
	fmt.Fprintf(&b, "\n%s\n", st.heading.Render("Identities → "+filepath.Join(a.Dir, pki.CertsDir, "NAME")))
	if len(spec.SASL.Mechanisms) > 0 {
		mechs, _ := sasl.ParseMechanisms(spec.SASL.Mechanisms)
		port := spec.SASL.Port
		if port == 0 {
			port = sasl.DefaultPort
		}
		row("SASL_SSL", fmt.Sprintf("brokers add a listener on port %d: %s", port, strings.Join(sasl.Mechanisms(mechs), ", ")))
	}
	if plan.CreateIssuer {
		row("Tokens", "a token issuer is created in "+filepath.Join(a.Dir, sasl.OAuthDir)+" (as kafkatls oauth init)")
	}
	grants := map[string][]kafkaacl.Grant{}
	auths := map[string]sasl.Auth{}
	for _, c := range spec.Clients {
		grants[c.Name] = c.Grants
		auths[c.Name], _ = sasl.ParseAuth(c.Auth)
	}
	connect := map[string]kafkaacl.ConnectWorker{}
	for _, c := range spec.Connect {
		connect[c.Name] = c.ConnectWorker.WithDefaults()
	}
	sym := map[bundle.Action]string{bundle.ActionCreate: "+", bundle.ActionRenew: "~", bundle.ActionConfig: "~", bundle.ActionKeep: "=", bundle.ActionOrphan: "?", bundle.ActionPrune: "-"}
	for _, s := range plan.Steps {
		fmt.Fprintf(&b, "%s %-12s %-10s %s\n", sym[s.Action], s.Name, s.Role, s.Principal)
		switch {
		case s.Action == bundle.ActionOrphan:
			b.WriteString("    not in this bundle any more: kept\n")
		case s.Role.IsServer():
			fmt.Fprintf(&b, "    SANs %s\n", s.SANs)
			if w, ok := connect[s.Name]; ok {
				fmt.Fprintf(&b, "    ACLs Connect group %s, topics %s, %s, %s\n", w.Group, w.ConfigTopic, w.OffsetTopic, w.StatusTopic)
			}
		default:
			if s.Role == pki.RoleClient {
				fmt.Fprintf(&b, "    auth %s\n", authText(auths[s.Name]))
			}
			for _, g := range grants[s.Name] {
				fmt.Fprintf(&b, "    ACLs %s\n", GrantText(g))
			}
		}
		if s.Reason != "" && s.Action != bundle.ActionCreate && s.Action != bundle.ActionOrphan {
			fmt.Fprintf(&b, "    %s: %s\n", s.Action, s.Reason)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", st.heading.Render("Files in each identity directory"))
	names, files := identityFileGroups(plan.Preview)
	for i := range names {
		fmt.Fprintf(&b, "%s: %s\n", strings.Join(names[i], ", "), strings.Join(files[i], " "))
	}
	fmt.Fprintf(&b, "\n%s\n%s\n", st.heading.Render("Bundle files in "+a.Dir), strings.Join(bundleFiles(plan.Preview), " "))
	fmt.Fprintf(&b, "\n%s\n%s\n", st.heading.Render("Equivalent command (CI)"), EquivalentCommand(a.Dir))
	if slices.Contains(spec.SASL.Mechanisms, string(sasl.OAuthBearer)) {
		b.WriteString("(in a new directory, after kafkatls oauth init --dir " + a.Dir + ")\n")
	}
	if passphrase {
		b.WriteString("(with the CA passphrase in KAFKATLS_CA_PASSPHRASE or --ca-passphrase-file)\n")
	}
	if cred.ci != "" {
		b.WriteString(cred.ci + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// nextSteps renders what to do with a written bundle.
func nextSteps(dir string, spec *bundle.Spec, plan *bundle.Plan, st styles) string {
	var b strings.Builder
	n := 0
	step := func(format string, a ...any) {
		n++
		fmt.Fprintf(&b, "%d. "+format+"\n", append([]any{n}, a...)...)
	}
	principals := map[string]string{}
	for _, s := range plan.Steps {
		principals[s.Name] = s.Principal
	}
	var firstBroker, firstClient string
	if len(spec.Brokers) > 0 {
		firstBroker = spec.Brokers[0].Name
	}
	var scram, oauth []string
	for _, c := range spec.Clients {
		a, _ := sasl.ParseAuth(c.Auth)
		switch {
		case a.Spec().Scram:
			scram = append(scram, c.Name)
		case a.Spec().OAuth:
			oauth = append(oauth, c.Name)
		case firstClient == "":
			// kcat is tried over mTLS (Debian's librdkafka fails SCRAM
			// against Kafka 4, and reads no token file: docs/sasl.md).
			firstClient = c.Name
		}
	}
	if firstBroker != "" {
		step("Brokers: merge each %s into that broker's server.properties,\n   with the super.users line of %s.",
			filepath.Join(dir, pki.CertsDir, "NAME", "server.properties"), filepath.Join(dir, bundle.SuperUsersFile))
	}
	var acls []string
	admin := "client.properties"
	if firstBroker != "" {
		if abs, err := filepath.Abs(filepath.Join(identity.Dir(dir, firstBroker), "client.properties")); err == nil {
			admin = abs
		}
	}
	for _, c := range spec.Clients {
		for _, g := range c.Grants {
			acls = append(acls, kafkaacl.Commands(principals[c.Name], g, kafkaacl.Target{Bootstrap: plan.Preview.Bootstrap, CommandConfig: kafkaacl.ShellQuote(admin)})...)
		}
	}
	if len(acls) > 0 {
		step("Grant the client ACLs once the cluster runs (as a super user):\n     %s\n   which runs:", filepath.Join(dir, bundle.ACLScript))
		for _, l := range acls {
			fmt.Fprintf(&b, "     %s\n", l)
		}
	} else {
		step("No client grants: no acls.sh. Add grants to %s and re-run.", filepath.Join(dir, bundle.SpecFile))
	}
	if len(scram) > 0 {
		step("SCRAM clients (%s): create their credentials with\n     sh %s alter   (a running cluster; format: a new KRaft cluster)",
			strings.Join(scram, ", "), filepath.Join(dir, bundle.ScramScript))
	}
	if len(oauth) > 0 {
		step("OAUTHBEARER clients (%s): their token.jwt expires (1 h); mint a new one with\n     kafkatls token NAME --dir %s",
			strings.Join(oauth, ", "), dir)
	}
	if firstClient == "" && len(spec.Clients) > 0 {
		step("Java clients: use %s", filepath.Join(identity.Dir(dir, spec.Clients[0].Name), "client.properties"))
	} else if firstClient != "" {
		cdir := identity.Dir(dir, firstClient)
		if _, err := os.Stat(filepath.Join(cdir, "kcat.conf")); err == nil {
			step("Try a client with kcat (lists brokers and topics over mTLS):\n     kcat -F %s -L", kafkaacl.ShellQuote(filepath.Join(cdir, "kcat.conf")))
		} else {
			step("Java clients: use %s", filepath.Join(cdir, "client.properties"))
		}
	}
	step("Rebuild or extend it non-interactively (CI):\n     %s", EquivalentCommand(dir))
	step("Everything in one page: %s", filepath.Join(dir, bundle.SummaryFile))
	return st.heading.Render("Next steps") + "\n" + strings.TrimRight(b.String(), "\n")
}

// authText says how a client authenticates and where its secret is.
func authText(a sasl.Auth) string {
	switch {
	case a.Spec().Scram:
		return a.Spec().Mechanism + " (password in " + sasl.ScramPasswordFile + ", scram.sh creates the credential)"
	case a.Spec().OAuth:
		return "OAUTHBEARER (token.jwt, minted by kafkatls token)"
	}
	return "mutual TLS (its certificate)"
}
