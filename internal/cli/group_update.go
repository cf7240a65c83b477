package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
)

// az group update: a generic update (GET, apply --tags and
// --set/--add/--remove, PUT the result), as azure.cli.core.commands.arm
// generic_update_command does with resource/custom.py update_resource_group.
func groupUpdateCommand() *command {
	return &command{
		path:         "group update",
		short:        "Update a resource group.",
		subscription: true,
		args: []*argDef{
			groupNameArg(),
			{dest: "tags", options: []string{"--tags"}, kind: argListOpt, help: `Space-separated tags: key[=value] [key[=value] ...]. Use "" to clear existing tags.`},
			{dest: "properties_to_set", options: []string{"--set"}, kind: argList, group: "Generic Update Arguments",
				help: "Update an object by specifying a property path and value to set. Example: --set property1.property2=<value>."},
			{dest: "properties_to_add", options: []string{"--add"}, kind: argList, group: "Generic Update Arguments",
				help: "Add an object to a list of objects by specifying a path and key value pairs. Example: --add property.listProperty <key=value, string or JSON string>."},
			{dest: "properties_to_remove", options: []string{"--remove"}, kind: argList, group: "Generic Update Arguments",
				help: "Remove a property or an element from a list. Example: --remove property.list <indexToRemove> OR --remove propertyToRemove."},
			{dest: "force_string", options: []string{"--force-string"}, kind: argFlag, group: "Generic Update Arguments",
				help: "When using 'set' or 'add', preserve string literals instead of attempting to convert to JSON."},
		},
		run: runGroupUpdate,
	}
}

func runGroupUpdate(i *inv) (any, error) {
	s, err := i.armSession()
	if err != nil {
		return nil, err
	}
	name := i.args.str("resource_group_name")
	g, err := s.arm().GetResourceGroup(i.ctx, s.subscriptionID(), name)
	if err != nil {
		return nil, err
	}
	if i.args.has("tags") {
		g.Tags = parseTags(i.args.list("tags"))
	}
	// Apply the generic arguments to the JSON form of the group.
	raw, err := json.Marshal(groupOut(g))
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	force := i.args.flag("force_string")
	if vals := i.args.list("properties_to_set"); len(vals) > 0 {
		for _, expr := range vals {
			path, value, ok := strings.Cut(expr, "=")
			if !ok {
				return nil, errorf("usage error: --set property=value")
			}
			if err := setPath(obj, splitPath(path), parseValue(value, force)); err != nil {
				return nil, err
			}
		}
	}
	if vals := i.args.list("properties_to_add"); len(vals) > 0 {
		target, err := getPath(obj, splitPath(vals[0]))
		if err != nil {
			return nil, err
		}
		list, ok := target.([]any)
		if !ok && target != nil {
			return nil, errorf("invalid syntax: --add property.list <key=value, string or JSON string>")
		}
		for _, v := range vals[1:] {
			list = append(list, parseValue(v, force))
		}
		if err := setPath(obj, splitPath(vals[0]), list); err != nil {
			return nil, err
		}
	}
	if vals := i.args.list("properties_to_remove"); len(vals) > 0 {
		if err := removePath(obj, splitPath(vals[0]), vals[1:]); err != nil {
			return nil, err
		}
	}
	var updated resourceGroupOut
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &updated); err != nil {
		return nil, errorf("The resource group cannot be updated this way: %v", err)
	}
	body := arm.ResourceGroupPut{Location: updated.Location, ManagedBy: updated.ManagedBy, Tags: updated.Tags}
	res, err := s.arm().CreateOrUpdateResourceGroup(i.ctx, s.subscriptionID(), name, body)
	if err != nil {
		return nil, err
	}
	return groupOut(res), nil
}

// parseValue is az's shell_safe_json_parse with a string fallback.
func parseValue(s string, forceString bool) any {
	if forceString {
		return s
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return v
	}
	return s
}

// splitPath splits "a.b[0].c" into keys; snake_case keys become camelCase
// as az's generic update accepts both.
func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, ".") {
		for part != "" {
			if i := strings.IndexByte(part, '['); i >= 0 {
				if i > 0 {
					out = append(out, camel(part[:i]))
				}
				j := strings.IndexByte(part[i:], ']')
				if j < 0 {
					out = append(out, part[i:])
					break
				}
				out = append(out, part[i:i+j+1])
				part = part[i+j+1:]
				continue
			}
			out = append(out, camel(part))
			break
		}
	}
	return out
}

func camel(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func index(key string) (int, bool) {
	if !strings.HasPrefix(key, "[") || !strings.HasSuffix(key, "]") {
		return 0, false
	}
	n, err := strconv.Atoi(key[1 : len(key)-1])
	return n, err == nil
}

// lookupKey finds a map key case-insensitively.
func lookupKey(m map[string]any, key string) string {
	if _, ok := m[key]; ok {
		return key
	}
	for k := range m {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

func getPath(obj any, path []string) (any, error) {
	cur := obj
	for _, k := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[lookupKey(c, k)]
		case []any:
			n, ok := index(k)
			if !ok || n < 0 || n >= len(c) {
				return nil, errorf("index out of range: %s", k)
			}
			cur = c[n]
		default:
			return nil, errorf("Couldn't find '%s' in '%s'.", k, strings.Join(path, "."))
		}
	}
	return cur, nil
}

func setPath(obj map[string]any, path []string, value any) error {
	if len(path) == 0 {
		return errorf("usage error: --set property=value")
	}
	parent, err := getPath(obj, path[:len(path)-1])
	if err != nil {
		return err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		p[lookupKey(p, last)] = value
	case []any:
		n, ok := index(last)
		if !ok || n < 0 || n >= len(p) {
			return errorf("index out of range: %s", last)
		}
		p[n] = value
	case nil:
		// Create the missing parent object (e.g. tags when null).
		m := map[string]any{last: value}
		return setPath(obj, path[:len(path)-1], m)
	default:
		return errorf("Couldn't find '%s' in '%s'.", last, strings.Join(path, "."))
	}
	return nil
}

func removePath(obj map[string]any, path []string, indexes []string) error {
	if len(indexes) > 0 {
		target, err := getPath(obj, path)
		if err != nil {
			return err
		}
		list, ok := target.([]any)
		if !ok {
			return errorf("invalid syntax: --remove property.list <indexToRemove>")
		}
		n, err := strconv.Atoi(indexes[0])
		if err != nil || n < 0 || n >= len(list) {
			return errorf("index %s doesn't exist on %s", indexes[0], strings.Join(path, "."))
		}
		return setPath(obj, path, append(list[:n:n], list[n+1:]...))
	}
	parent, err := getPath(obj, path[:len(path)-1])
	if err != nil {
		return err
	}
	if m, ok := parent.(map[string]any); ok {
		delete(m, lookupKey(m, path[len(path)-1]))
		return nil
	}
	return fmt.Errorf("Couldn't find '%s' in '%s'.", path[len(path)-1], strings.Join(path, "."))
}
