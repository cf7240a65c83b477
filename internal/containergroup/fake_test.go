package containergroup

import (
	"context"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// memStore is an in-memory Store for this package's unit tests.
type memStore struct {
	mu      sync.Mutex
	groups  map[string]Group
	ops     map[string]Operation
	servers map[string]Server
}

func newMemStore() *memStore {
	return &memStore{groups: map[string]Group{}, ops: map[string]Operation{}, servers: map[string]Server{}}
}

func (m *memStore) PutServer(_ context.Context, srv Server) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.servers[srv.ID] = srv
	return nil
}

func (m *memStore) ListServers(context.Context) ([]Server, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Server
	for _, k := range slices.Sorted(maps.Keys(m.servers)) {
		out = append(out, m.servers[k])
	}
	return out, nil
}

func (m *memStore) ClaimGroup(_ context.Context, id resourceid.ID, from, to string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[id.Key()]
	if !ok {
		return false, errdefs.New(errdefs.NotFound, "", "not found")
	}
	if g.Owner != from {
		return false, nil
	}
	g.Owner = to
	m.groups[id.Key()] = g
	return true, nil
}

func (m *memStore) conflict(g Group) error {
	for _, o := range m.groups {
		if o.ID.Equal(g.ID) {
			continue
		}
		if g.IP.IsValid() && o.IP == g.IP {
			return errdefs.New(errdefs.Conflict, ReasonIPTaken, "ip taken")
		}
		if g.DNSNameLabel != "" && o.Location == g.Location && strings.EqualFold(o.DNSNameLabel, g.DNSNameLabel) {
			return errdefs.New(errdefs.Conflict, ReasonDNSLabelTaken, "label taken")
		}
	}
	return nil
}

func (m *memStore) CreateGroup(_ context.Context, g Group) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.groups[g.ID.Key()]; ok {
		return errdefs.New(errdefs.AlreadyExists, "", "exists")
	}
	if err := m.conflict(g); err != nil {
		return err
	}
	m.groups[g.ID.Key()] = g
	return nil
}

func (m *memStore) GetGroup(_ context.Context, id resourceid.ID) (Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[id.Key()]
	if !ok {
		return Group{}, errdefs.New(errdefs.NotFound, "", "not found")
	}
	return g, nil
}

func (m *memStore) UpdateGroup(_ context.Context, id resourceid.ID, fn func(*Group) error) (Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.groups[id.Key()]
	if !ok {
		return Group{}, errdefs.New(errdefs.NotFound, "", "not found")
	}
	g := cur
	g.Events = maps.Clone(cur.Events)
	g.Images = maps.Clone(cur.Images)
	if err := fn(&g); err != nil {
		return Group{}, err
	}
	g.Owner = cur.Owner // only ClaimGroup changes it
	if err := m.conflict(g); err != nil {
		return Group{}, err
	}
	m.groups[id.Key()] = g
	return g, nil
}

func (m *memStore) DeleteGroup(_ context.Context, id resourceid.ID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.groups[id.Key()]; !ok {
		return errdefs.New(errdefs.NotFound, "", "not found")
	}
	delete(m.groups, id.Key())
	return nil
}

func (m *memStore) ListGroups(_ context.Context, sub, group string) ([]Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Group
	for _, k := range slices.Sorted(maps.Keys(m.groups)) {
		g := m.groups[k]
		if sub != "" && !strings.EqualFold(g.ID.SubscriptionID, sub) || group != "" && !strings.EqualFold(g.ID.ResourceGroup, group) {
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

func (m *memStore) PutOperation(_ context.Context, op Operation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops[op.ID] = op
	return nil
}

func (m *memStore) GetOperation(_ context.Context, id string) (Operation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	op, ok := m.ops[id]
	if !ok {
		return Operation{}, errdefs.New(errdefs.NotFound, "", "not found")
	}
	return op, nil
}

// plainSealer "seals" by copying: the tests look at behaviour, not
// cryptography (sealbox has its own tests).
type plainSealer struct{}

func (plainSealer) Seal(p []byte) ([]byte, error) { return slices.Clone(p), nil }
func (plainSealer) Open(p []byte) ([]byte, error) { return slices.Clone(p), nil }

// fakeImages resolves every image except those listed in fail.
type fakeImages struct {
	mu    sync.Mutex
	fail  map[string]*ImageError
	creds map[string]*Credential // last credential seen per image
}

func (f *fakeImages) Resolve(_ context.Context, ref string, cred *Credential) (ResolvedImage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.creds == nil {
		f.creds = map[string]*Credential{}
	}
	f.creds[ref] = cred
	if e := f.fail[ref]; e != nil {
		return ResolvedImage{}, e
	}
	repo := ref
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo = ref[:i]
	}
	return ResolvedImage{Ref: ref, Digest: "sha256:" + strings.Repeat("a", 64), DigestRef: repo + "@sha256:" + strings.Repeat("a", 64)}, nil
}

func (f *fakeImages) Pull(_ context.Context, img ResolvedImage, _ *Credential) (Image, error) {
	return Image{Digest: img.Digest, Config: ImageConfig{Cmd: []string{"/bin/sh"}}, Layers: []string{"/layers/1"}}, nil
}

func (f *fakeImages) Prune(context.Context, []string) error { return nil }

// fakeRunner records what it was asked to run.
type fakeRunner struct {
	mu      sync.Mutex
	started map[string]RunSpec
	removed []string
	stopped []string
	startCh chan RunSpec
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{started: map[string]RunSpec{}, startCh: make(chan RunSpec, 16)}
}

func (r *fakeRunner) Start(_ context.Context, spec RunSpec) error {
	r.mu.Lock()
	r.started[spec.ID] = spec
	r.mu.Unlock()
	r.startCh <- spec
	return nil
}

func (r *fakeRunner) Stop(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.started[id]; ok {
		delete(r.started, id)
		r.stopped = append(r.stopped, id)
	}
	return nil
}

func (r *fakeRunner) Remove(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.started, id)
	r.removed = append(r.removed, id)
	return nil
}

func (r *fakeRunner) Status(_ context.Context, id string) (GroupStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	spec, ok := r.started[id]
	if !ok {
		return GroupStatus{}, errdefs.New(errdefs.NotFound, "", "unknown group")
	}
	st := GroupStatus{Active: true}
	for _, c := range spec.Containers {
		st.Containers = append(st.Containers, ContainerStatus{Name: c.Name, Current: ContainerState{State: "Running"}})
	}
	return st, nil
}

func (r *fakeRunner) Logs(context.Context, string, string, LogOptions) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("hello\n")), nil
}

func (r *fakeRunner) Exec(context.Context, string, string, []string, TerminalSize) (Process, error) {
	return nil, errdefs.New(errdefs.NotImplemented, "", "no exec in the fake")
}

func (r *fakeRunner) Recover(context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.started)), nil
}
