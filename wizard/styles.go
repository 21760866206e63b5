package wizard

import (
	"regexp"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
)

// styles are the wizard's own styles; plain ones (no colour, no
// attributes) when NO_COLOR is set.
type styles struct {
	title, step, heading, key, hint, ok, bad, warn lipgloss.Style
	barDone, barTodo                               string
	okMark, badMark                                string
	plain                                          bool
}

func newStyles(noColor bool) styles {
	if noColor {
		p := lipgloss.NewStyle()
		return styles{title: p, step: p, heading: p, key: p, hint: p, ok: p, bad: p, warn: p,
			barDone: "█", barTodo: "░", okMark: "✓", badMark: "✗", plain: true}
	}
	return styles{
		title:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("212")),
		step:    lipgloss.NewStyle().Foreground(lipgloss.Color("245")),
		heading: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("99")),
		key:     lipgloss.NewStyle().Foreground(lipgloss.Color("245")),
		hint:    lipgloss.NewStyle().Foreground(lipgloss.Color("241")),
		ok:      lipgloss.NewStyle().Foreground(lipgloss.Color("42")),
		bad:     lipgloss.NewStyle().Foreground(lipgloss.Color("203")),
		warn:    lipgloss.NewStyle().Foreground(lipgloss.Color("214")),
		barDone: "█", barTodo: "░", okMark: "✓", badMark: "✗",
	}
}

// formTheme is huh's Charm theme, or without colour its base theme with
// the remaining colours removed.
func formTheme(noColor bool) huh.Theme {
	if !noColor {
		return huh.ThemeFunc(huh.ThemeCharm)
	}
	return huh.ThemeFunc(func(isDark bool) *huh.Styles {
		t := huh.ThemeBase(isDark)
		p := lipgloss.NewStyle()
		for _, f := range []*huh.FieldStyles{&t.Focused, &t.Blurred} {
			f.TextInput.Placeholder = p
			f.FocusedButton = p.SetString(">")
			f.BlurredButton = p
		}
		t.Help = help.Styles{Ellipsis: p, ShortKey: p, ShortDesc: p, ShortSeparator: p, FullKey: p, FullDesc: p, FullSeparator: p}
		return t
	})
}

var sgrSeq = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// stripColor removes colour parameters from the SGR sequences in s and
// keeps the other attributes (reverse video marks the text cursor). Used
// under NO_COLOR for what huh's themes cannot reach (bubbles' text input
// colours its blurred state).
func stripColor(s string) string {
	return sgrSeq.ReplaceAllStringFunc(s, func(seq string) string {
		params := seq[2 : len(seq)-1]
		if params == "" {
			return seq
		}
		parts := strings.Split(params, ";")
		var keep []string
		for i := 0; i < len(parts); i++ {
			p := parts[i]
			if base, _, colon := strings.Cut(p, ":"); colon {
				if base != "38" && base != "48" && base != "58" {
					keep = append(keep, p)
				}
				continue
			}
			n, err := strconv.Atoi(p)
			switch {
			case err != nil:
				keep = append(keep, p)
			case n == 38 || n == 48 || n == 58:
				if i+1 < len(parts) && parts[i+1] == "5" {
					i += 2
				} else if i+1 < len(parts) && parts[i+1] == "2" {
					i += 4
				}
			case n >= 30 && n <= 37, n == 39, n >= 40 && n <= 47, n == 49, n == 59, n >= 90 && n <= 97, n >= 100 && n <= 107:
			default:
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			return ""
		}
		return "\x1b[" + strings.Join(keep, ";") + "m"
	})
}
