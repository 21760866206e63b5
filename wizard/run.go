package wizard

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run runs the wizard on the terminal (stdin and stdout must be
// terminals). Signals are not handled by the program: canceling ctx (the
// CLI cancels it on SIGINT/SIGTERM) stops the wizard as Ctrl-C does, so
// generation is never cut short in the middle of an identity.
func Run(ctx context.Context, o Options) (Outcome, error) {
	m := New(ctx, o)
	opts := []tea.ProgramOption{tea.WithoutSignalHandler()}
	if o.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	final, err := tea.NewProgram(m, opts...).Run()
	if err != nil && !errors.Is(err, tea.ErrInterrupted) {
		return Outcome{}, err
	}
	fm, ok := final.(*Model)
	if !ok {
		return Outcome{}, errors.New("wizard: unexpected final model")
	}
	return fm.Outcome(), nil
}
