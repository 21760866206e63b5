package identity

import "github.com/kafkatls/kafkatls/templates"

// ReadProperties reads a java.util.Properties file of an identity
// directory (never through a link; templates.ParseProperties reads it).
func ReadProperties(dir, name string) (map[string]string, error) {
	b, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	return templates.ParseProperties(b), nil
}
