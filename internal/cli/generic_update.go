package cli

// The generic update arguments (azure.cli.core.commands.arm
// generic_update_command): --set, --add and --remove applied, in that
// order, to the JSON form of the object being updated.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// genericUpdateArgs are the "Generic Update Arguments" every generic
// update command ends with.
var genericUpdateArgs = []*argDef{
	{dest: "properties_to_set", options: []string{"--set"}, kind: argList, group: "Generic Update Arguments",
		help: "Update an object by specifying a property path and value to set. Example: --set property1.property2=<value>."},
	{dest: "properties_to_add", options: []string{"--add"}, kind: argList, group: "Generic Update Arguments",
		help: "Add an object to a list of objects by specifying a path and key value pairs. Example: --add property.listProperty <key=value, string or JSON string>."},
	{dest: "properties_to_remove", options: []string{"--remove"}, kind: argList, group: "Generic Update Arguments",
		help: "Remove a property or an element from a list. Example: --remove property.list <indexToRemove> OR --remove propertyToRemove."},
	{dest: "force_string", options: []string{"--force-string"}, kind: argFlag, group: "Generic Update Arguments",
		help: "When using 'set' or 'add', preserve string literals instead of attempting to convert to JSON."},
}

// applyGenericUpdate applies --set, --add and --remove to obj in place.
func (i *inv) applyGenericUpdate(obj map[string]any) error {
	force := i.args.flag("force_string")
	for _, expr := range i.args.list("properties_to_set") {
		path, value, ok := strings.Cut(expr, "=")
		if !ok {
			return errorf("usage error: --set property=value")
		}
		if err := setPath(obj, splitPath(path), parseValue(value, force)); err != nil {
			return err
		}
	}
	if vals := i.args.list("properties_to_add"); len(vals) > 0 {
		target, err := getPath(obj, splitPath(vals[0]))
		if err != nil {
			return err
		}
		list, ok := target.([]any)
		if !ok && target != nil {
			return errorf("invalid syntax: --add property.list <key=value, string or JSON string>")
		}
		for _, v := range vals[1:] {
			list = append(list, parseValue(v, force))
		}
		if err := setPath(obj, splitPath(vals[0]), list); err != nil {
			return err
		}
	}
	if vals := i.args.list("properties_to_remove"); len(vals) > 0 {
		return removePath(obj, splitPath(vals[0]), vals[1:])
	}
	return nil
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
