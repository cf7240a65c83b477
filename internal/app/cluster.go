package app

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/cerulean/cerulean/internal/atomicfile"
)

// serverIDFile holds the server's id among those sharing a store: made on
// first start, kept for the data dir's life, so that a restarted server
// finds its container groups still its own.
const serverIDFile = "server-id"

// A server id names its exec sessions (<id>.<random>), so it has no dot.
var validServerID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// serverID returns the data dir's server id, making it the first time.
func serverID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, serverIDFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := strings.TrimSpace(string(b))
		if !validServerID.MatchString(id) {
			return "", fmt.Errorf("%s: %q is not a server id (letters, digits, - and _; delete the file to make a new one)", path, id)
		}
		return id, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	id := uuid.NewString()
	if err := atomicfile.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("server id: %w", err)
	}
	return id, nil
}

// advertiseAddr is where other servers reach this one: --advertise, or
// the listener's address; a listener on every interface is advertised
// under the machine's host name.
func advertiseAddr(advertise string, listen net.Addr) string {
	if advertise != "" {
		return advertise
	}
	host, port, err := net.SplitHostPort(listen.String())
	if err != nil {
		return listen.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		}
	}
	return net.JoinHostPort(host, port)
}
