package task

import (
	"strings"
	"text/template"
	"time"
)

// templateData is what {{.Run.ID}} and friends read in image names and
// quick-run commands (acr-builder's template values).
type templateData struct {
	Run    templateRun
	Values map[string]string
}

type templateRun struct {
	ID, Registry, RegistryName, Date, OS, Architecture, SharedVolume string
}

func newTemplateData(id, loginServer, registryName string, created time.Time, p Platform, values map[string]string) templateData {
	if values == nil {
		values = map[string]string{}
	}
	return templateData{
		Run: templateRun{
			ID: id, Registry: loginServer, RegistryName: registryName,
			Date: created.UTC().Format("20060102-150405z"), OS: p.OS, Architecture: p.Architecture,
		},
		Values: values,
	}
}

// render expands a Go template over d; a string without "{{" is itself.
func render(what, s string, d templateData) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	t, err := template.New(what).Option("missingkey=error").Parse(s)
	if err != nil {
		return "", ErrInvalidRequest.WithMessage("The %s %q is not a valid template: %s", what, clip(s), clip(err.Error()))
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", ErrInvalidRequest.WithMessage("The %s %q cannot be rendered: %s", what, clip(s), clip(err.Error()))
	}
	return b.String(), nil
}
