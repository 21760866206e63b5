package wizard

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// keyDelay separates keystrokes: huh moves between fields with commands
// that run after the key, so keys sent back to back could race them.
const keyDelay = 30 * time.Millisecond

// snapshot is what the model showed after an update.
type snapshot struct {
	screen string // the view, ANSI stripped
	page   string // the whole scrollable page (summary, done), ANSI stripped
	top    frame
	focus  string // the focused form field
	errs   bool   // the form shows a validation error
}

// probe wraps the wizard model and records a snapshot after every update,
// on the program's goroutine, so tests read the real screen without races.
type probe struct {
	m *Model

	mu       sync.Mutex
	last     snapshot
	oversize []string // views larger than the terminal
	colored  bool     // some view used a colour
	log      []string // messages and the step they left the wizard on
	updates  int      // messages processed
	lastAt   time.Time
}

type probeModel struct{ p *probe }

func (pm probeModel) Init() tea.Cmd  { return pm.p.m.Init() }
func (pm probeModel) View() tea.View { return pm.p.m.View() }
func (pm probeModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := pm.p.m.Update(msg)
	raw := pm.p.m.View().Content
	p := pm.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updates++
	p.lastAt = time.Now()
	p.last = snapshot{screen: ansi.Strip(raw), page: ansi.Strip(p.m.page), top: p.m.top()}
	if f := p.m.form; f != nil && f.State == huh.StateNormal {
		p.last.focus = fmt.Sprintf("%p", f.GetFocusedField())
		p.last.errs = len(f.Errors()) > 0
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		p.log = append(p.log, fmt.Sprintf("key %s -> %s", k.String(), p.m.top().title()))
	} else if n := fmt.Sprintf("%T", msg); !strings.Contains(n, "update") && !strings.Contains(n, "Blink") {
		p.log = append(p.log, fmt.Sprintf("%s -> %s", n, p.m.top().title()))
	}
	lines := strings.Split(raw, "\n")
	if len(lines) > p.m.height && len(p.oversize) < 5 {
		p.oversize = append(p.oversize, fmt.Sprintf("%s: %d lines > %d", p.m.top().title(), len(lines), p.m.height))
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > p.m.width && len(p.oversize) < 5 {
			p.oversize = append(p.oversize, fmt.Sprintf("%s: line %q is %d wide > %d", p.m.top().title(), ansi.Strip(l), w, p.m.width))
		}
	}
	if hasColor(raw) {
		if !p.colored && os.Getenv("WIZARD_DEBUG_COLOR") != "" {
			fmt.Printf("%q\n", raw)
		}
		p.colored = true
	}
	return pm, cmd
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// hasColor reports whether s sets a foreground or background colour.
func hasColor(s string) bool {
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			if len(p) == 2 && (p[0] == '3' || p[0] == '4') && p[1] != '9' || p == "38" || p == "48" ||
				len(p) == 2 && p[0] == '9' || len(p) == 3 && p[:2] == "10" {
				return true
			}
		}
	}
	return false
}

type driver struct {
	t  *testing.T
	tm *teatest.TestModel
	p  *probe
}

// start runs the wizard headless at 80x24.
func start(t *testing.T, o Options) *driver {
	t.Helper()
	p := &probe{m: New(context.Background(), o)}
	tm := teatest.NewTestModel(t, probeModel{p}, teatest.WithInitialTermSize(80, 24))
	d := &driver{t: t, tm: tm, p: p}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("PKI directory")) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, o := range p.oversize {
			t.Errorf("view does not fit 80x24: %s", o)
		}
	})
	return d
}

func (d *driver) send(k tea.KeyPressMsg) {
	want := d.count() + 1
	d.tm.Send(k)
	d.settle(want)
}

func (d *driver) count() int {
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	return d.p.updates
}

// settle waits until want messages were processed in all and the program
// has been idle for keyDelay (bounded): a key's follow-up commands (huh's
// field and group moves) are handled before the next key.
func (d *driver) settle(want int) {
	d.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		d.p.mu.Lock()
		done := d.p.updates >= want && time.Since(d.p.lastAt) >= keyDelay
		d.p.mu.Unlock()
		if done {
			return
		}
	}
}

// enter presses Enter on a form and waits for its effect: huh moves focus
// with commands that run after the key, so the next key must wait for the
// focus to move, the step to change or a validation error to show.
func (d *driver) enter() {
	d.t.Helper()
	before := d.snap()
	d.send(tea.KeyPressMsg{Code: tea.KeyEnter})
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := d.snap()
		if s.top != before.top || s.focus != before.focus || s.errs {
			break
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("Enter had no effect on %s:\n%s", s.top.title(), s.screen)
		}
		time.Sleep(5 * time.Millisecond)
	}
	d.settle(0)
}
func (d *driver) down()   { d.send(tea.KeyPressMsg{Code: tea.KeyDown}) }
func (d *driver) esc()    { d.send(tea.KeyPressMsg{Code: tea.KeyEscape}) }
func (d *driver) ctrlC()  { d.send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}) }
func (d *driver) toggle() { d.typ("x") }

func (d *driver) typ(s string) {
	want := d.count() + len([]rune(s))
	d.tm.Type(s)
	d.settle(want)
}

func (d *driver) backspace(n int) {
	want := d.count() + n
	for range n {
		d.tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	d.settle(want)
}

func (d *driver) enters(n int) {
	for range n {
		d.enter()
	}
}

func (d *driver) snap() snapshot {
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	return d.p.last
}

// waitUntil polls the snapshots until cond holds (bounded).
func (d *driver) waitUntil(what string, timeout time.Duration, cond func(s snapshot) bool) snapshot {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := d.snap()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			d.p.mu.Lock()
			log := d.p.log[max(len(d.p.log)-40, 0):]
			d.p.mu.Unlock()
			d.t.Fatalf("waiting for %s: timed out after %s; screen (%s):\n%s\npage:\n%s\nlast messages:\n%s", what, timeout, s.top.title(), s.screen, s.page, strings.Join(log, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitText waits until the screen shows sub.
func (d *driver) waitText(sub string) snapshot {
	d.t.Helper()
	return d.waitUntil(fmt.Sprintf("%q on screen", sub), 5*time.Second, func(s snapshot) bool { return strings.Contains(s.screen, sub) })
}

// waitStep waits until step kind (number i) is shown.
func (d *driver) waitStep(kind stepKind, i int) snapshot {
	d.t.Helper()
	f := frame{kind: kind, i: i}
	return d.waitUntil("step "+f.title(), 10*time.Second, func(s snapshot) bool { return s.top == f })
}

// stays asserts that, after a moment, the wizard is still on the step.
func (d *driver) stays(kind stepKind, i int) snapshot {
	d.t.Helper()
	time.Sleep(250 * time.Millisecond)
	s := d.snap()
	if s.top != (frame{kind: kind, i: i}) {
		d.t.Fatalf("moved on to %s; want to stay on %s. Screen:\n%s", s.top.title(), frame{kind: kind, i: i}.title(), s.screen)
	}
	return s
}

// finish waits for the program to end and returns the outcome.
func (d *driver) finish() Outcome {
	d.t.Helper()
	d.tm.WaitFinished(d.t, teatest.WithFinalTimeout(15*time.Second))
	return d.p.m.Outcome()
}

// toCA leaves the directory step for a new directory, keeps the default
// signer (a local CA) and waits for the CA step.
func (d *driver) toCA() {
	d.t.Helper()
	d.enter()
	d.waitStep(stepSigner, 0)
	d.enter()
	d.waitStep(stepCA, 0)
}

// clientDefaultEnters accept a client screen's defaults: name, no topic,
// mutual TLS, no more.
const clientDefaultEnters = 4

// walkDefaults accepts every default from the directory step to the
// summary: a new CA, KRaft, kafka-1, client1 without grants, Java. It
// returns the summary.
func (d *driver) walkDefaults() snapshot {
	d.t.Helper()
	d.toCA()
	d.enters(4) // CN, O, OU, C
	d.waitText("Locality")
	d.enters(3) // L, ST, key type
	d.waitText("CA key passphrase")
	d.enter()
	d.waitStep(stepMode, 0)
	d.enters(2) // KRaft, no dedicated controllers
	d.waitStep(stepBroker, 0)
	d.enters(4) // name, hosts, IPs, no more
	d.waitStep(stepClient, 0)
	d.enters(clientDefaultEnters) // name, no topic, mutual TLS, no more
	d.waitStep(stepServices, 0)
	d.enters(2) // no Connect workers, no TLS servers
	d.waitStep(stepRuntimes, 0)
	d.enters(2) // Java, modern
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	return d.waitStep(stepSummary, 0)
}

// keyPress builds a named key.
func keyPress(name string) tea.KeyPressMsg {
	switch name {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	panic("unknown key " + name)
}

// addClient2OnReuse answers a reused directory's steps with the defaults
// (one broker, client1 on mutual TLS), adds a second client with default
// answers, no other services, and returns the summary.
func (d *driver) addClient2OnReuse() snapshot {
	d.waitStep(stepMode, 0)
	d.enters(2)
	d.waitStep(stepBroker, 0)
	d.enters(4)
	d.waitStep(stepClient, 0)
	d.enters(3) // client1, no topic, mutual TLS
	d.down()    // add another
	d.enter()
	d.waitStep(stepClient, 1)
	d.enters(clientDefaultEnters)
	d.waitStep(stepServices, 0)
	d.enters(2) // no Connect workers, no TLS servers
	d.waitStep(stepRuntimes, 0)
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	return d.waitStep(stepSummary, 0)
}
