package rbac

import "strings"

// matchAction reports whether an action matches a permission pattern. Both
// are compared case-insensitively and "*" in the pattern matches any run of
// characters, including "/" ("*/read" matches every read action).
func matchAction(pattern, action string) bool {
	return globMatch(strings.ToLower(pattern), strings.ToLower(action))
}

func globMatch(p, s string) bool {
	// Iterative wildcard match with single backtracking point, linear in
	// practice for the short patterns roles use.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Allows reports whether the role grants the control-plane action: some
// permission block lists it in Actions and not in NotActions.
func (d RoleDefinition) Allows(action string) bool {
	for _, p := range d.Permissions {
		if anyMatch(p.Actions, action) && !anyMatch(p.NotActions, action) {
			return true
		}
	}
	return false
}

// AllowsData reports whether the role grants the data-plane action.
func (d RoleDefinition) AllowsData(action string) bool {
	for _, p := range d.Permissions {
		if anyMatch(p.DataActions, action) && !anyMatch(p.NotDataActions, action) {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, action string) bool {
	for _, p := range patterns {
		if matchAction(p, action) {
			return true
		}
	}
	return false
}
