package build

import (
	"fmt"
	"strconv"
	"strings"
)

// resolveOwner turns --chown's or USER's "user[:group]" into ids, looking
// names up in the stage's own /etc/passwd and /etc/group (numbers need no
// lookup; a user without a group gets the user's primary group, or the
// same number for a numeric uid unknown to passwd).
func resolveOwner(v *view, spec string) (uid, gid int, err error) {
	user, group, hasGroup := strings.Cut(spec, ":")
	var passwd [][]string
	loadPasswd := func() [][]string {
		if passwd == nil {
			passwd = colonFile(v.readFile("/etc/passwd", 4<<20))
		}
		return passwd
	}
	primary := -1
	if n, err := strconv.Atoi(user); err == nil && n >= 0 {
		uid = n
		for _, f := range loadPasswd() {
			if len(f) >= 4 && f[2] == user {
				primary, _ = strconv.Atoi(f[3])
				break
			}
		}
	} else {
		found := false
		for _, f := range loadPasswd() {
			if len(f) >= 4 && f[0] == user {
				u, err1 := strconv.Atoi(f[2])
				g, err2 := strconv.Atoi(f[3])
				if err1 == nil && err2 == nil {
					found, uid, primary = true, u, g
				}
				break
			}
		}
		if !found {
			return 0, 0, fmt.Errorf("unable to find user %s: no matching entries in passwd file", user)
		}
	}
	if !hasGroup {
		if primary < 0 {
			primary = uid
		}
		return uid, primary, nil
	}
	if n, err := strconv.Atoi(group); err == nil && n >= 0 {
		return uid, n, nil
	}
	for _, f := range colonFile(v.readFile("/etc/group", 4<<20)) {
		if len(f) >= 3 && f[0] == group {
			g, err := strconv.Atoi(f[2])
			if err == nil {
				return uid, g, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("unable to find group %s: no matching entries in group file", group)
}

func colonFile(data []byte) [][]string {
	out := [][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}
