package wizard

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/engine"
	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/pki"
)

// VerifyFunc checks a written bundle and returns one line per check, and
// whether all passed.
type VerifyFunc func(ctx context.Context, dir string) (summary []string, ok bool, err error)

// runBundle is bundle.Run; tests wrap it to hold generation at a known point.
var runBundle = bundle.Run

// Verify runs after generation. cmd wires it to the verify package; nil
// means "verify not available" (Options.Verify overrides it).
var Verify VerifyFunc

// Options configure a wizard run.
type Options struct {
	// Dir is the suggested PKI directory.
	Dir string
	// CAPassphrase, if given (--ca-passphrase-file, KAFKATLS_CA_PASSPHRASE),
	// encrypts a new CA or decrypts an existing one; the wizard then does
	// not ask for it.
	CAPassphrase []byte
	// NoColor selects plain styles (NO_COLOR).
	NoColor bool
	// Verify overrides the package-level Verify.
	Verify VerifyFunc
	// LookupEnv reads password variables for the preview and the engine's
	// settings and credentials (VAULT_*, STEP_*) for the default Engines
	// (default os.LookupEnv; bundle.Run itself reads the identities'
	// password variables from the environment).
	LookupEnv func(string) (string, bool)
	// VaultTokenFile is --vault-token-file: the engine token comes from
	// it instead of VAULT_TOKEN (shown on the signing step).
	VaultTokenFile string
	// ProvisionerPasswordFile is --provisioner-password-file: the step-ca
	// provisioner password comes from it instead of the file
	// STEP_PROVISIONER_PASSWORD_FILE names (shown on the signing step).
	ProvisionerPasswordFile string
	// Engines connects to the engine that signs (default: engine.Open
	// with the credentials above, the environment as LookupEnv reads it,
	// and the chosen directory's trust anchor).
	Engines pki.EngineOpener
}

// Outcome is how a wizard run ended.
type Outcome struct {
	// Canceled: the user quit before generation; nothing was written.
	Canceled bool
	// Interrupted: canceled during generation. Identities already issued
	// are complete and kafkatls.yaml is written so a re-run finishes.
	Interrupted bool
	Dir         string
	Spec        *bundle.Spec
	Result      *bundle.Result
	// Err is a generation failure.
	Err error
	// VerifyRan tells whether a verify ran; VerifyOK its verdict.
	VerifyRan, VerifyOK bool
	VerifyErr           error
	// Recap is the final screen as plain text, for the terminal scrollback.
	Recap string
}

// Model is the wizard's bubbletea model.
type Model struct {
	opts Options
	st   styles
	a    *Answers

	stack         []frame
	form          *huh.Form
	width, height int

	existing  *pki.PKI // the CA found in a.Dir
	passInput string   // CA passphrase typed in the wizard
	// passConfirm is the new CA passphrase typed a second time.
	passConfirm string

	ctx  context.Context
	stop context.CancelFunc

	spec    *bundle.Spec
	plan    *bundle.Plan
	planErr error
	page    string // scrollable content of the summary and done screens
	scroll  int

	events    chan tea.Msg
	genCancel context.CancelFunc
	progress  []bundle.Progress
	canceling bool
	result    *bundle.Result
	genErr    error

	verifyCancel context.CancelFunc
	verifyLines  []string
	verifyOK     bool
	verifyErr    error
	verifyRan    bool

	out      Outcome
	quitting bool

	watchers []*watcher
}

// watcher re-renders a piece of a form when its key changes.
type watcher struct {
	key   func() string
	last  string
	seen  bool
	apply func()
}

// watch registers a watcher for the form being built.
func (m *Model) watch(key func() string, apply func()) {
	m.watchers = append(m.watchers, &watcher{key: key, apply: apply})
}

// refresh runs the watchers whose key changed.
func (m *Model) refresh() {
	for _, w := range m.watchers {
		if k := w.key(); !w.seen || k != w.last {
			w.last, w.seen = k, true
			w.apply()
		}
	}
}

type (
	progressMsg bundle.Progress
	genDoneMsg  struct {
		res *bundle.Result
		err error
	}
	verifyDoneMsg struct {
		lines []string
		ok    bool
		err   error
	}
	ctxDoneMsg struct{}
)

// New returns the wizard model. Canceling ctx cancels the wizard as
// Ctrl-C does.
func New(ctx context.Context, o Options) *Model {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Verify == nil {
		o.Verify = Verify
	}
	if o.Dir == "" {
		o.Dir = "kafka-pki"
	}
	m := &Model{opts: o, st: newStyles(o.NoColor), a: DefaultAnswers(o.Dir), width: 80, height: 24}
	if m.opts.Engines == nil {
		m.opts.Engines = m.openEngine
	}
	m.ctx, m.stop = context.WithCancel(ctx)
	m.stack = []frame{{kind: stepDir}}
	m.form = m.buildForm(m.top())
	m.refresh()
	return m
}

// openEngine is the default Options.Engines: the credentials as `kafkatls
// bundle` builds them (cmd's globals.credentials), with the trust anchor
// of the directory being answered, which a reused step-ca directory needs
// when the root file its settings name is gone.
func (m *Model) openEngine(ctx context.Context, s pki.EngineSettings) (pki.Engine, error) {
	return engine.Open(ctx, s, engine.Credentials{
		Getenv:       func(k string) string { v, _ := m.lookupEnv(k); return v },
		TokenFile:    m.opts.VaultTokenFile,
		PasswordFile: m.opts.ProvisionerPasswordFile,
		TrustFile:    filepath.Join(m.a.Dir, pki.TrustFile),
	})
}

// Answers returns the answers collected so far.
func (m *Model) Answers() *Answers { return m.a }

// Outcome returns how the run ended (valid once the program returned).
func (m *Model) Outcome() Outcome { return m.out }

func (m *Model) lookupEnv(k string) (string, bool) { return m.opts.LookupEnv(k) }

func (m *Model) top() frame { return m.stack[len(m.stack)-1] }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	ctx := m.ctx
	return tea.Batch(m.form.Init(), func() tea.Msg {
		<-ctx.Done()
		return ctxDoneMsg{}
	})
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		if m.form != nil {
			_, cmd := m.form.Update(m.formSize())
			return m, cmd
		}
		return m, nil
	case ctxDoneMsg:
		if m.quitting {
			return m, nil // our own stop after quitting
		}
		return m, m.cancel()
	case tea.KeyPressMsg:
		switch msg.String() {
		case "ctrl+c":
			return m, m.cancel()
		case "esc":
			if k := m.top().kind; k < stepGenerate {
				return m, m.back()
			}
		}
		switch m.top().kind {
		case stepSummary:
			return m, m.summaryKey(msg)
		case stepDone:
			return m, m.doneKey(msg)
		case stepGenerate, stepVerify:
			return m, nil
		}
	case progressMsg:
		m.progress = append(m.progress, bundle.Progress(msg))
		return m, m.waitEvents()
	case genDoneMsg:
		m.result = msg.res
		return m, m.generated(msg.err)
	case verifyDoneMsg:
		m.verifyLines, m.verifyOK, m.verifyErr, m.verifyRan = msg.lines, msg.ok, msg.err, true
		if m.canceling {
			return m, m.quit()
		}
		return m, m.finish()
	}
	if m.form == nil {
		return m, nil
	}
	f, cmd := m.form.Update(msg)
	m.form = f.(*huh.Form)
	if m.form.State == huh.StateNormal {
		m.refresh()
		// huh sizes groups only on a resize; descriptions computed as the
		// user types (SAN previews, variable lists) change their height.
		// The resize also re-renders the group with the new text.
		var resize tea.Cmd
		f, resize = m.form.Update(m.formSize())
		m.form = f.(*huh.Form)
		cmd = tea.Batch(cmd, resize)
	}
	if m.form.State == huh.StateCompleted {
		return m, tea.Batch(cmd, m.advance())
	}
	return m, cmd
}

func (m *Model) formSize() tea.WindowSizeMsg {
	return tea.WindowSizeMsg{Width: m.width, Height: max(m.height-chromeLines, 5)}
}

// chromeLines are the header and footer lines around a step's body.
const chromeLines = 4

// enter shows the step on top of the stack.
func (m *Model) enter() tea.Cmd {
	f := m.top()
	m.scroll = 0
	if !f.isForm() {
		m.form = nil
		if f.kind == stepSummary {
			m.prepareSummary()
		}
		return nil
	}
	m.form = m.buildForm(f)
	m.refresh()
	init := m.form.Init()
	fm, cmd := m.form.Update(m.formSize())
	m.form = fm.(*huh.Form)
	return tea.Batch(init, cmd)
}

func (m *Model) push(f frame) tea.Cmd {
	m.stack = append(m.stack, f)
	return m.enter()
}

// back returns to the previous step; the answers given there are kept.
func (m *Model) back() tea.Cmd {
	if len(m.stack) <= 1 {
		return nil
	}
	m.stack = m.stack[:len(m.stack)-1]
	return m.enter()
}

// advance moves on from a completed form.
func (m *Model) advance() tea.Cmd {
	a := m.a
	f := m.top()
	switch f.kind {
	case stepDir:
		a.Dir = strings.TrimSpace(a.Dir)
		m.passInput, m.passConfirm = "", ""
		if p, err := pki.Open(a.Dir, nil); err == nil {
			m.existing, a.ReuseCA = p, true
			return m.push(frame{kind: stepExistingCA})
		}
		m.existing, a.ReuseCA = nil, false
		return m.push(frame{kind: stepSigner})
	case stepSigner:
		if a.Signer == SignerStep {
			// The spec is saved in the PKI directory: a relative path
			// would be read from there.
			if abs, err := filepath.Abs(strings.TrimSpace(a.StepRoot)); err == nil {
				a.StepRoot = abs
			}
		}
		if a.Signer != SignerLocal {
			m.passInput, m.passConfirm = "", "" // an engine's CA has no key here
		}
		return m.push(frame{kind: stepCA})
	case stepExistingCA:
		if !a.ReuseCA {
			return m.back()
		}
		return m.push(frame{kind: stepMode})
	case stepCA:
		if m.passInput != "" && m.passConfirm != m.passInput {
			// The form validates the confirmation when it is entered; a
			// passphrase changed after that is caught here.
			m.passConfirm = ""
			return m.enter() // the same step again, from its first field

		}
		return m.push(frame{kind: stepMode})
	case stepMode:
		if len(a.Brokers) == 0 {
			a.Brokers = append(a.Brokers, NewNode("kafka", 0))
		}
		return m.push(frame{kind: stepBroker})
	case stepBroker, stepController, stepZooKeeper, stepConnect, stepServer:
		list, _ := m.nodeList(f.kind)
		if (*list)[f.i].More == MoreYes {
			if len(*list) <= f.i+1 {
				base := map[stepKind]string{stepBroker: "kafka", stepController: "controller", stepZooKeeper: "zookeeper", stepConnect: "connect", stepServer: "server"}[f.kind]
				*list = append(*list, NewNode(base, f.i+1))
			}
			return m.push(frame{kind: f.kind, i: f.i + 1})
		}
		*list = (*list)[:f.i+1]
		switch {
		case f.kind == stepConnect:
			return m.services(true)
		case f.kind == stepServer:
			return m.push(frame{kind: stepRuntimes})
		case f.kind == stepBroker && a.Mode == bundle.ModeZooKeeper:
			if len(a.ZooKeepers) == 0 {
				a.ZooKeepers = append(a.ZooKeepers, NewNode("zookeeper", 0))
			}
			return m.push(frame{kind: stepZooKeeper})
		case f.kind == stepBroker && a.DedicatedControllers:
			if len(a.Controllers) == 0 {
				a.Controllers = append(a.Controllers, NewNode("controller", 0))
			}
			return m.push(frame{kind: stepController})
		}
		if len(a.Clients) == 0 {
			a.Clients = append(a.Clients, NewClient(0))
		}
		return m.push(frame{kind: stepClient})
	case stepClient:
		if a.Clients[f.i].More == MoreYes {
			if len(a.Clients) <= f.i+1 {
				a.Clients = append(a.Clients, NewClient(f.i+1))
			}
			return m.push(frame{kind: stepClient, i: f.i + 1})
		}
		a.Clients = a.Clients[:f.i+1]
		return m.push(frame{kind: stepServices})
	case stepServices:
		return m.services(false)
	case stepRuntimes:
		return m.push(frame{kind: stepPasswords})
	case stepPasswords:
		return m.push(frame{kind: stepMount})
	case stepMount:
		return m.push(frame{kind: stepSummary})
	}
	return nil
}

// services moves on from the other-services step (connectDone: from the
// last Connect worker): to the Connect workers, the TLS servers, then the
// runtimes.
func (m *Model) services(connectDone bool) tea.Cmd {
	a := m.a
	switch {
	case a.WantConnect && !connectDone:
		if len(a.Connect) == 0 {
			a.Connect = append(a.Connect, NewNode("connect", 0))
		}
		return m.push(frame{kind: stepConnect})
	case a.WantServers:
		if len(a.Servers) == 0 {
			a.Servers = append(a.Servers, NewNode("server", 0))
		}
		return m.push(frame{kind: stepServer})
	}
	return m.push(frame{kind: stepRuntimes})
}

// caPassphrase is the passphrase given on the command line or typed.
func (m *Model) caPassphrase() []byte {
	if m.a.EngineSettings() != nil {
		return nil // the engine's CA: no key here to encrypt
	}
	if len(m.opts.CAPassphrase) > 0 {
		return m.opts.CAPassphrase
	}
	if m.passInput != "" {
		return []byte(m.passInput)
	}
	return nil
}

// prepareSummary builds the spec and plans it with a dry run (which writes
// nothing) so the summary shows exactly what bundle.Run will do.
func (m *Model) prepareSummary() {
	m.spec, m.plan, m.planErr = nil, nil, nil
	spec, err := BuildSpec(*m.a)
	if err == nil {
		// The run replaces DIR/kafkatls.yaml: what it holds and the
		// wizard does not ask is carried over, never dropped.
		var saved *bundle.Spec
		if saved, err = ReadSavedSpec(m.a.Dir); err != nil {
			err = fmt.Errorf("%w\n(the wizard keeps what it does not ask from the saved spec: fix or move it)", err)
		} else if saved != nil {
			spec = KeepUnasked(spec, saved)
			err = spec.Validate()
		}
	}
	if err == nil {
		if missing := m.a.MissingEnv(m.lookupEnv); len(missing) > 0 {
			err = errors.New(strings.Join(missing, "\n"))
		}
	}
	var chain []*x509.Certificate
	if err == nil {
		chain, err = m.newEngineChain()
	}
	if err == nil {
		var res *bundle.Result
		res, err = bundle.Run(m.ctx, spec, bundle.Options{Dir: m.a.Dir, DryRun: true, CAPassphrase: m.caPassphrase(), EngineChain: chain, InitIssuer: true})
		if err == nil {
			m.plan = res.Plan
			err = m.checkEngineCredential(res.Plan)
		}
	}
	m.spec, m.planErr = spec, err
	if err != nil {
		m.page = m.st.bad.Render(m.st.badMark+" This bundle cannot be generated:") + "\n" + explain(err) + "\n\nPress esc to go back and fix it."
		return
	}
	var reused *pki.EngineSettings
	if m.a.ReuseCA && m.existing != nil {
		reused = m.existing.Settings.Engine
	}
	var cred credential
	if s := m.a.EngineSettings(); s != nil || reused != nil {
		if s == nil {
			s = reused
		}
		cred.label, cred.where, cred.ci = m.engineCredential(s)
	}
	m.page = summaryText(m.a, spec, m.plan, m.st, len(m.caPassphrase()) > 0 && m.plan.CreateCA, reused, cred)
}

// engineChainTimeout bounds the summary's request for an engine's chain
// (the wizard waits for it).
const engineChainTimeout = 15 * time.Second

// newEngineChain fetches the CA chain of the engine a new directory will
// name, which the run copies in: the summary then lists exactly the files
// it writes (ca/chain.pem when the engine signs with an intermediate), and
// an engine that cannot be reached, or a credential it refuses, is found
// before generation. Nil for a local CA or a reused directory.
func (m *Model) newEngineChain() ([]*x509.Certificate, error) {
	s := m.a.EngineSettings()
	if s == nil {
		return nil, nil
	}
	e, err := m.opts.Engines(m.ctx, *s)
	if err != nil {
		label, where, _ := m.engineCredential(s)
		return nil, fmt.Errorf("engine %s: %w\n%s: %s", s, err, label, stripMarks(where, m.st))
	}
	ctx, cancel := context.WithTimeout(m.ctx, engineChainTimeout)
	defer cancel()
	chain, err := e.Chain(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine %s: reading its CA chain: %w", s, err)
	}
	return chain, nil
}

// checkEngineCredential: a run that signs through an engine needs its
// token, read now as the run will (VAULT_TOKEN or --vault-token-file; a
// token file must be 0600). Opening does not contact the engine.
func (m *Model) checkEngineCredential(plan *bundle.Plan) error {
	s := m.a.EngineSettings()
	if m.existing != nil && m.a.ReuseCA {
		s = m.existing.Settings.Engine
	}
	if s == nil || !plan.CreateCA && plan.Count(bundle.ActionCreate)+plan.Count(bundle.ActionRenew) == 0 {
		return nil
	}
	if _, err := m.opts.Engines(m.ctx, *s); err != nil {
		label, where, _ := m.engineCredential(s)
		return fmt.Errorf("engine %s: %w\n%s: %s", s, err, label, stripMarks(where, m.st))
	}
	return nil
}

// engineCredential names the credential engine s needs, where this run
// reads it from, and the line the summary ends with for CI runs.
func (m *Model) engineCredential(s *pki.EngineSettings) (label, where, ci string) {
	if s.Type == SignerStep {
		return "Password", m.passwordStatus(), "(with the provisioner password file in --provisioner-password-file or " + stepca.EnvPasswordFile + ")"
	}
	return "Token", m.tokenStatus(), "(with the engine token in VAULT_TOKEN or --vault-token-file)"
}

// stripMarks drops a leading status mark from a credential line.
func stripMarks(s string, st styles) string {
	return strings.TrimSpace(strings.TrimPrefix(s, st.badMark))
}

func (m *Model) pageHeight() int { return max(m.height-chromeLines, 3) }

func (m *Model) pageLines() []string {
	return wrapLines(m.page, max(m.width, 20))
}

func (m *Model) scrollKey(k string) {
	maxScroll := max(len(m.pageLines())-m.pageHeight(), 0)
	switch k {
	case "down", "j":
		m.scroll++
	case "up", "k":
		m.scroll--
	case "pgdown", "space", "f":
		m.scroll += m.pageHeight() - 1
	case "pgup", "b":
		m.scroll -= m.pageHeight() - 1
	case "home", "g":
		m.scroll = 0
	case "end", "G":
		m.scroll = maxScroll
	}
	m.scroll = min(max(m.scroll, 0), maxScroll)
}

func (m *Model) summaryKey(k tea.KeyPressMsg) tea.Cmd {
	if k.String() == "enter" {
		if m.planErr != nil {
			return nil
		}
		return m.generate()
	}
	m.scrollKey(k.String())
	return nil
}

func (m *Model) doneKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "enter", "q":
		return m.quit()
	}
	m.scrollKey(k.String())
	return nil
}

// generate runs bundle.Run (the code path of `kafkatls bundle -f`) in the
// background; the run saves the answers as DIR/kafkatls.yaml by bundle's
// one rule (bundle.SpecSave): with the index, whenever it records anything.
func (m *Model) generate() tea.Cmd {
	m.stack = append(m.stack, frame{kind: stepGenerate})
	m.form = nil
	ctx, cancel := context.WithCancel(m.ctx)
	m.genCancel = cancel
	m.events = make(chan tea.Msg, 64)
	spec, dir, pass, events := m.spec, m.a.Dir, m.caPassphrase(), m.events
	go func() {
		res, err := runBundle(ctx, spec, bundle.Options{Dir: dir, CAPassphrase: pass, SaveSpec: bundle.SpecReplace, InitIssuer: true, Engines: m.opts.Engines, Progress: func(p bundle.Progress) { events <- progressMsg(p) }})
		events <- genDoneMsg{res: res, err: err}
	}()
	return m.waitEvents()
}

func (m *Model) waitEvents() tea.Cmd {
	ch := m.events
	return func() tea.Msg { return <-ch }
}

func (m *Model) generated(err error) tea.Cmd {
	m.genCancel()
	m.genErr = err
	if m.canceling {
		m.out.Interrupted = true
		return m.quit()
	}
	if err != nil {
		return m.finish()
	}
	if m.opts.Verify == nil {
		return m.finish()
	}
	m.stack = append(m.stack, frame{kind: stepVerify})
	ctx, cancel := context.WithCancel(m.ctx)
	m.verifyCancel = cancel
	v, dir := m.opts.Verify, m.a.Dir
	return func() tea.Msg {
		lines, ok, err := v(ctx, dir)
		return verifyDoneMsg{lines, ok, err}
	}
}

// finish shows the final screen.
func (m *Model) finish() tea.Cmd {
	if m.verifyCancel != nil {
		m.verifyCancel()
	}
	m.stack = append(m.stack, frame{kind: stepDone})
	m.scroll = 0
	m.page = m.doneText(m.st)
	return nil
}

func (m *Model) doneText(st styles) string {
	var b strings.Builder
	if m.genErr != nil {
		fmt.Fprintf(&b, "%s\n%s\n", st.bad.Render(st.badMark+" Generation failed:"), explain(m.genErr))
		if m.result != nil && len(m.result.Entities) > 0 {
			fmt.Fprintf(&b, "%d identities were written whole; fix the problem and run:\n  %s\n", len(m.result.Entities), EquivalentCommand(m.a.Dir))
		}
		return strings.TrimRight(b.String(), "\n")
	}
	n := 0
	if m.result != nil {
		n = len(m.result.Entities)
	}
	what := fmt.Sprintf("%d identities issued", n)
	if m.plan != nil && m.plan.CreateCA {
		what = "CA created, " + what
	}
	fmt.Fprintf(&b, "%s\n", st.ok.Render(fmt.Sprintf("%s Bundle written to %s (%s); spec saved as %s.", st.okMark, m.a.Dir, what, filepath.Join(m.a.Dir, bundle.SpecFile))))
	switch {
	case !m.verifyRan:
		b.WriteString("Verify: verify not available in this build.\n")
	case m.verifyErr != nil:
		fmt.Fprintf(&b, "%s %v\n", st.bad.Render("Verify: FAILED to run:"), m.verifyErr)
	case m.verifyOK:
		fmt.Fprintf(&b, "%s\n", st.ok.Render("Verify: PASSED"))
	default:
		fmt.Fprintf(&b, "%s\n", st.bad.Render("Verify: FAILED"))
	}
	for _, l := range m.verifyLines {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	b.WriteString("\n" + nextSteps(m.a.Dir, m.spec, m.plan, st))
	return b.String()
}

// cancel handles Ctrl-C (and the parent context ending): before
// generation it quits with nothing written; during generation it cancels
// bundle.Run, which finishes the identities in progress (each written
// whole) and saves the index; then the wizard quits.
func (m *Model) cancel() tea.Cmd {
	switch m.top().kind {
	case stepGenerate:
		if !m.canceling {
			m.canceling = true
			m.genCancel()
		}
		return nil
	case stepVerify:
		if !m.canceling {
			m.canceling = true
			m.verifyCancel()
		}
		return nil
	case stepDone:
		return m.quit()
	}
	m.out.Canceled = true
	return m.quit()
}

func (m *Model) quit() tea.Cmd {
	m.out.Dir = m.a.Dir
	m.out.Spec, m.out.Result, m.out.Err = m.spec, m.result, m.genErr
	m.out.VerifyRan, m.out.VerifyOK, m.out.VerifyErr = m.verifyRan, m.verifyOK, m.verifyErr
	switch {
	case m.out.Canceled:
		m.out.Recap = "Wizard canceled: nothing was written."
	case m.out.Interrupted:
		n := 0
		if m.result != nil {
			n = len(m.result.Entities)
		}
		m.out.Recap = fmt.Sprintf("Generation interrupted: %d identities were written whole in %s.\nFinish it with: %s", n, m.a.Dir, EquivalentCommand(m.a.Dir))
	default:
		m.out.Recap = m.doneText(newStyles(true))
		if m.canceling && m.verifyErr != nil {
			m.out.Recap += "\n(verify was canceled)"
		}
	}
	m.quitting = true
	m.stop()
	return tea.Quit
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	f := m.top()
	header := m.st.title.Render("kafkatls wizard") + m.st.step.Render(fmt.Sprintf(" · %s · step %d of %d", f.title(), f.number(), totalSteps))
	var body, footer string
	switch {
	case f.isForm():
		body = m.form.View()
		hint := "esc: back a step · shift+tab: previous field · ctrl+c: quit"
		if len(m.stack) == 1 {
			hint = "enter: next · ctrl+c: quit (nothing is written until you confirm)"
		}
		footer = hint
	case f.kind == stepSummary || f.kind == stepDone:
		lines := m.pageLines()
		m.scroll = min(m.scroll, max(len(lines)-m.pageHeight(), 0)) // after a resize
		end := min(m.scroll+m.pageHeight(), len(lines))
		body = strings.Join(lines[m.scroll:end], "\n")
		more := ""
		if len(lines) > m.pageHeight() {
			more = fmt.Sprintf(" · ↑/↓ scroll (%d-%d of %d)", m.scroll+1, end, len(lines))
		}
		if f.kind == stepSummary {
			if m.planErr != nil {
				footer = "esc: back · ctrl+c: quit (nothing written)" + more
			} else {
				footer = "enter: generate · esc: back · ctrl+c: quit" + more
			}
		} else {
			footer = "enter: exit" + more
		}
	case f.kind == stepGenerate:
		body = strings.Join(wrapLines(m.progressView(), max(m.width, 20)), "\n")
		footer = "ctrl+c: stop (identities in progress finish; each is written whole)"
		if m.canceling {
			footer = "stopping: finishing the identities in progress…"
		}
	case f.kind == stepVerify:
		body = strings.Join(wrapLines(fmt.Sprintf("%s Bundle written to %s.\n\nVerifying it: a test broker runs with a broker's stores and every identity connects with each store format it has…", m.st.okMark, m.a.Dir), max(m.width, 20)), "\n")
		footer = "ctrl+c: stop verifying (the bundle stays written)"
	}
	bodyLines := strings.Split(body, "\n")
	if h := max(m.height-chromeLines, 1); len(bodyLines) > h {
		bodyLines = bodyLines[:h]
	}
	for len(bodyLines) < max(m.height-chromeLines, 1) {
		bodyLines = append(bodyLines, "")
	}
	content := header + "\n\n" + strings.Join(bodyLines, "\n") + "\n\n" + m.st.hint.Render(lipgloss.Wrap(footer, max(m.width, 20), " "))
	if m.opts.NoColor {
		content = stripColor(content)
	}
	v := tea.NewView(content)
	v.AltScreen = true
	return v
}

func (m *Model) progressView() string {
	total := 0
	if m.plan != nil {
		total = m.plan.Count(bundle.ActionCreate) + m.plan.Count(bundle.ActionRenew)
	}
	if n := len(m.progress); n > 0 {
		total = m.progress[n-1].Total
	}
	done := len(m.progress)
	width := 40
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Issuing %d identities into %s\n\n", total, m.a.Dir)
	fmt.Fprintf(&b, "[%s%s] %d/%d\n\n", strings.Repeat(m.st.barDone, filled), strings.Repeat(m.st.barTodo, width-filled), done, total)
	start := max(len(m.progress)-(m.height-chromeLines-6), 0)
	for _, p := range m.progress[start:] {
		fmt.Fprintf(&b, "%s %s %s\n", m.st.ok.Render(m.st.okMark), p.Action, p.Name)
	}
	return strings.TrimRight(b.String(), "\n")
}

// wrapLines wraps text at width on spaces, indenting continuation lines
// under the line's own indentation (plus two), so long commands and SAN
// lists stay readable at 80 columns. Words longer than a line are cut.
func wrapLines(text string, width int) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if ansi.StringWidth(line) <= width {
			out = append(out, line)
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent >= width/2 {
			indent = 0
		}
		hang := indent + 2
		cur, curW, empty := strings.Repeat(" ", indent), indent, true
		flush := func() {
			out = append(out, cur)
			cur, curW, empty = strings.Repeat(" ", hang), hang, true
		}
		for _, w := range strings.Fields(line) {
			ww := ansi.StringWidth(w)
			if !empty && curW+1+ww > width {
				flush()
			}
			if !empty {
				cur += " "
				curW++
			}
			for curW+ww > width {
				n := width - curW
				cur += ansi.Cut(w, 0, n)
				w = ansi.Cut(w, n, ww)
				ww = ansi.StringWidth(w)
				flush()
			}
			cur += w
			curW += ww
			empty = false
		}
		if !empty {
			out = append(out, cur)
		}
	}
	return out
}
