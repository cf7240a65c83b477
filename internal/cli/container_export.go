package cli

// az container export (custom container_export): the group read as a
// generic resource, with what only the service sets removed (id, sku,
// plan, kind, managedBy, provisioningState and every instanceView), the
// apiVersion added, written as YAML (yaml.safe_dump: sorted keys, block
// style). The generic model's attribute names show through as az writes
// them (additional_properties, extended_location); the file is the input
// of az container create --file.

import (
	"bytes"
	"errors"
	"os"

	"github.com/cerulean/cerulean/internal/cli/output"
	"github.com/cerulean/cerulean/internal/client"
)

func containerExportCommand() *command {
	return &command{
		path:         "container export",
		short:        "Export a container group in yaml format.",
		subscription: true,
		args: []*argDef{
			containerGroupArg(true), containerNameArg(true),
			{dest: "file", options: []string{"--file", "-f"}, kind: argValue, required: true, help: "The file path to export the container group."},
		},
		run: func(i *inv) (any, error) {
			s, group, name, err := i.containerTarget()
			if err != nil {
				return nil, err
			}
			raw, err := s.arm().GetContainerGroupRaw(i.ctx, s.subscriptionID(), group, name, client.APIVersionContainerInstance)
			if err != nil {
				return nil, err
			}
			doc, err := exportDocument(raw, client.APIVersionContainerInstance)
			if err != nil {
				return nil, err
			}
			var b bytes.Buffer
			if err := output.Write(&b, doc, output.YAML, nil); err != nil {
				return nil, err
			}
			if err := os.WriteFile(i.args.str("file"), b.Bytes(), 0o644); err != nil {
				return nil, errorf("%s", err.Error())
			}
			return nil, nil
		},
	}
}

// exportDocument builds the exported mapping from the GET body.
func exportDocument(raw []byte, apiVersion string) (map[string]any, error) {
	m, ok := rawValue(raw).(map[string]any)
	if !ok {
		return nil, errors.New("the server returned no container group")
	}
	props, _ := m["properties"].(map[string]any)
	if props != nil {
		delete(props, "instanceView")
		delete(props, "provisioningState")
		cs, _ := props["containers"].([]any)
		for _, c := range cs {
			if cm, ok := c.(map[string]any); ok {
				if cp, ok := cm["properties"].(map[string]any); ok {
					delete(cp, "instanceView")
				}
			}
		}
	}
	var identity any
	if id, ok := m["identity"].(map[string]any); ok {
		entry := map[string]any{"type": id["type"]}
		if uai, ok := id["userAssignedIdentities"].(map[string]any); ok && len(uai) > 0 {
			ids := map[string]any{}
			for k := range uai {
				ids[k] = map[string]any{}
			}
			entry["userAssignedIdentities"] = ids
		}
		identity = entry
	}
	doc := map[string]any{
		"additional_properties": map[string]any{},
		"apiVersion":            apiVersion,
		"extended_location":     m["extendedLocation"],
		"identity":              identity,
		"location":              m["location"],
		"name":                  m["name"],
		"properties":            props,
		"tags":                  m["tags"],
		"type":                  m["type"],
	}
	return doc, nil
}
