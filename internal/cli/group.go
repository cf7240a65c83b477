package cli

import (
	"strings"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/cli/output"
)

// groupNameArg is the group commands' --name/-n/--resource-group/-g.
func groupNameArg() *argDef {
	return &argDef{dest: "resource_group_name", options: []string{"--name", "-n", "--resource-group", "-g"}, kind: argValue,
		required: true, help: "Name of resource group. You can configure the default group using `az configure --defaults group=<name>`."}
}

// resourceGroupOut is a resource group as az prints it: the SDK model's
// attribute order (id, name, type, properties, location, managedBy, tags).
type resourceGroupOut struct {
	ID         string                      `json:"id"`
	Name       string                      `json:"name"`
	Type       string                      `json:"type"`
	Properties arm.ResourceGroupProperties `json:"properties"`
	Location   string                      `json:"location"`
	ManagedBy  *string                     `json:"managedBy"`
	Tags       map[string]string           `json:"tags"`
}

func groupOut(g arm.ResourceGroup) resourceGroupOut {
	return resourceGroupOut{ID: g.ID, Name: g.Name, Type: g.Type, Properties: g.Properties, Location: g.Location, ManagedBy: g.ManagedBy, Tags: g.Tags}
}

// parseTags is az's validate_tags: "k=v" pairs, a bare "k" is an empty
// value; an empty list clears the tags.
func parseTags(items []string) map[string]string {
	tags := map[string]string{}
	for _, it := range items {
		if it == "" {
			continue
		}
		k, v, _ := strings.Cut(it, "=")
		tags[k] = v
	}
	return tags
}

// normalizeLocation is az's location_name_type: names with spaces are
// lower-cased and the spaces removed ("East US" -> "eastus").
func normalizeLocation(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	return strings.ToLower(strings.ReplaceAll(s, " ", ""))
}

// transformResourceGroupList is resource/commands.py
// transform_resource_group_list.
func transformResourceGroupList(result any) any {
	items, _ := result.([]any)
	rows := make([]output.Row, 0, len(items))
	for _, it := range items {
		r, _ := it.(map[string]any)
		var state any
		if p, ok := r["properties"].(map[string]any); ok {
			state = p["provisioningState"]
		}
		rows = append(rows, output.Row{
			{Key: "Name", Value: r["name"]},
			{Key: "Location", Value: r["location"]},
			{Key: "Status", Value: state},
		})
	}
	return rows
}
