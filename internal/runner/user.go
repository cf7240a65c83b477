package runner

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// resolveUser turns an image's USER ("", "uid", "uid:gid", "name",
// "name:group", …) into ids, reading etc/passwd and etc/group inside
// rootfs through an os.Root so that an image's symlinks cannot point the
// lookup at the host's files. A numeric user absent from passwd runs with
// gid 0 unless a group is given, as Docker does.
func resolveUser(rootfs, user string) (specs.User, error) {
	if user == "" {
		return specs.User{}, nil
	}
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return specs.User{}, err
	}
	defer func() { _ = root.Close() }()
	uname, gname, hasGroup := strings.Cut(user, ":")
	passwd := readDB(root, "etc/passwd")
	groups := readDB(root, "etc/group")

	var u specs.User
	var userName string
	found := false
	if n, err := strconv.ParseUint(uname, 10, 32); err == nil {
		u.UID = uint32(n)
		for _, f := range passwd {
			if len(f) >= 4 && f[2] == uname {
				userName = f[0]
				if g, err := strconv.ParseUint(f[3], 10, 32); err == nil {
					u.GID = uint32(g)
				}
				break
			}
		}
	} else {
		for _, f := range passwd {
			if len(f) >= 4 && f[0] == uname {
				uid, err1 := strconv.ParseUint(f[2], 10, 32)
				gid, err2 := strconv.ParseUint(f[3], 10, 32)
				if err1 != nil || err2 != nil {
					return specs.User{}, fmt.Errorf("user %q: bad passwd entry", uname)
				}
				u.UID, u.GID, userName, found = uint32(uid), uint32(gid), uname, true
				break
			}
		}
		if !found {
			return specs.User{}, fmt.Errorf("unable to find user %s: no matching entries in passwd file", uname)
		}
	}
	if hasGroup {
		if n, err := strconv.ParseUint(gname, 10, 32); err == nil {
			u.GID = uint32(n)
		} else {
			ok := false
			for _, f := range groups {
				if len(f) >= 3 && f[0] == gname {
					if g, err := strconv.ParseUint(f[2], 10, 32); err == nil {
						u.GID, ok = uint32(g), true
					}
					break
				}
			}
			if !ok {
				return specs.User{}, fmt.Errorf("unable to find group %s: no matching entries in group file", gname)
			}
		}
	} else if userName != "" {
		// Supplementary groups: those listing the user as a member.
		for _, f := range groups {
			if len(f) < 4 || f[3] == "" {
				continue
			}
			for _, m := range strings.Split(f[3], ",") {
				if m == userName {
					if g, err := strconv.ParseUint(f[2], 10, 32); err == nil && uint32(g) != u.GID {
						u.AdditionalGids = append(u.AdditionalGids, uint32(g))
					}
				}
			}
		}
	}
	return u, nil
}

// readDB reads a colon-separated database; a missing file is empty.
func readDB(root *os.Root, name string) [][]string {
	f, err := root.Open(name)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	var out [][]string
	sc := bufio.NewScanner(io.LimitReader(f, 4<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}
