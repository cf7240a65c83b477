package containergroup

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// Lifecycle errors.
var (
	ErrGroupNotFound      = errdefs.New(errdefs.NotFound, "ResourceNotFound", "container group not found")
	ErrContainerNotFound  = errdefs.New(errdefs.NotFound, "ContainerNotFound", "container not found")
	ErrInaccessibleImage  = errdefs.New(errdefs.InvalidArgument, "InaccessibleImage", "image not accessible")
	ErrTransitioning      = errdefs.New(errdefs.Conflict, "ContainerGroupTransitioning", "container group transitioning")
	ErrLogNotAvailable    = errdefs.New(errdefs.NotFound, "ContainerLogNotAvailable", "log not available")
	ErrContainerNotActive = errdefs.New(errdefs.Conflict, "ContainerNotRunning", "container not running")
	ErrLocationMismatch   = errdefs.New(errdefs.Conflict, "InvalidResourceLocation", "location cannot be changed")
	ErrOperationNotFound  = errdefs.New(errdefs.NotFound, "OperationNotFound", "operation not found")
	ErrSessionInvalid     = errdefs.New(errdefs.Unauthenticated, "InvalidExecSession", "exec session invalid")
)

// Config configures a Service.
type Config struct {
	Store  Store
	Images Images
	Runner Runner
	Sealer Sealer
	// InstancesDomain is the suffix of group FQDNs:
	// <dnsNameLabel>.<location>.<InstancesDomain>.
	InstancesDomain string
	// IPPool is where group addresses are taken from (default
	// 127.1.0.0/16); it must lie in 127.0.0.0/8.
	IPPool netip.Prefix
	Logger *slog.Logger
	Now    func() time.Time
	// ReconcileEvery is the reconciler's period (default 2 s).
	ReconcileEvery time.Duration
	// ServerID names this server among those sharing the store (default
	// "local": a lone server). It owns the groups it creates.
	ServerID string
	// Advertise is the host:port other servers reach this one at.
	Advertise string
	// Lease is how long a server's heartbeat keeps its groups its own
	// (default DefaultLease); HeartbeatEvery is how often it is renewed
	// (default DefaultHeartbeat, at most a third of Lease).
	Lease, HeartbeatEvery time.Duration
}

// Service is Azure Container Instances.
type Service struct {
	store  Store
	images Images
	runner Runner
	sealer Sealer
	domain string
	pool   netip.Prefix
	log    *slog.Logger
	now    func() time.Time
	every  time.Duration

	id        string // this server's id
	advertise string
	lease     time.Duration
	beat      time.Duration

	// base is the server's lifetime context: provisioning outlives the
	// request that started it.
	mu       sync.Mutex
	base     context.Context
	locks    map[string]*sync.Mutex        // by group id key: one lifecycle change at a time
	working  map[string]context.CancelFunc // provisioning in flight, by group id key
	sessions map[string]*session           // exec and attach sessions, by id
}

// NewService returns a Service. Call Run to start the reconciler.
func NewService(cfg Config) *Service {
	s := &Service{
		store: cfg.Store, images: cfg.Images, runner: cfg.Runner, sealer: cfg.Sealer,
		domain: strings.ToLower(cfg.InstancesDomain), pool: cfg.IPPool,
		log: cfg.Logger, now: cfg.Now, every: cfg.ReconcileEvery,
		id: cfg.ServerID, advertise: cfg.Advertise, lease: cfg.Lease, beat: cfg.HeartbeatEvery,
		base:  context.Background(),
		locks: map[string]*sync.Mutex{}, working: map[string]context.CancelFunc{}, sessions: map[string]*session{},
	}
	if s.domain == "" {
		s.domain = "azurecontainer.localhost"
	}
	if !s.pool.IsValid() {
		s.pool = netip.MustParsePrefix("127.1.0.0/16")
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.every <= 0 {
		s.every = 2 * time.Second
	}
	if s.id == "" {
		s.id = "local"
	}
	if s.lease <= 0 {
		s.lease = DefaultLease
	}
	if s.beat <= 0 {
		s.beat = DefaultHeartbeat
	}
	s.beat = min(s.beat, s.lease/3)
	return s
}

// lock serializes lifecycle changes of one group.
func (s *Service) lock(id resourceid.ID) func() {
	s.mu.Lock()
	l := s.locks[id.Key()]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[id.Key()] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func groupNotFound(id resourceid.ID) error {
	return ErrGroupNotFound.WithMessage("The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		ResourceType, id.Name(), id.ResourceGroup).WithTarget(id.Name())
}

// get loads a group and opens its spec.
func (s *Service) get(ctx context.Context, id resourceid.ID) (Group, error) {
	g, err := s.store.GetGroup(ctx, id)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Group{}, groupNotFound(id)
	}
	if err != nil {
		return Group{}, err
	}
	return g, s.open(&g)
}

func (s *Service) open(g *Group) error {
	plain, err := s.sealer.Open(g.SealedSpec)
	if err != nil {
		return errdefs.Internalf(err, "containergroup: open spec of %s", g.ID)
	}
	if err := json.Unmarshal(plain, &g.Spec); err != nil {
		return errdefs.Internalf(err, "containergroup: decode spec of %s", g.ID)
	}
	return nil
}

func (s *Service) seal(spec Spec) ([]byte, error) {
	plain, err := json.Marshal(spec)
	if err != nil {
		return nil, errdefs.Internalf(err, "containergroup: encode spec")
	}
	sealed, err := s.sealer.Seal(plain)
	if err != nil {
		return nil, errdefs.Internalf(err, "containergroup: seal spec")
	}
	return sealed, nil
}

// CreateInput is a container group PUT.
type CreateInput struct {
	ID       resourceid.ID // the group's resource id
	Location string
	Tags     map[string]string
	Spec     Spec
	Caller   string // object id
}

// CreateOrUpdate validates a PUT, checks every image synchronously with
// the group's credentials, stores the group (Pending) and starts
// provisioning in the background. It returns the group, the provisioning
// operation and whether the group is new. Changing what ACI can only
// change by re-creating is InvalidContainerGroupUpdate; other changes
// restart the containers with the new spec.
func (s *Service) CreateOrUpdate(ctx context.Context, in CreateInput) (View, Operation, bool, error) {
	name := in.ID.Name()
	if err := ValidateGroupName(name); err != nil {
		return View{}, Operation{}, false, err
	}
	if err := resource.CheckLocation(in.Location, ResourceType); err != nil {
		return View{}, Operation{}, false, err
	}
	loc := resource.NormalizeLocation(in.Location)
	if err := resource.ValidateTags(in.Tags); err != nil {
		return View{}, Operation{}, false, err
	}
	spec := in.Spec
	if err := spec.Validate(name); err != nil {
		return View{}, Operation{}, false, err
	}
	unlock := s.lock(in.ID)
	defer unlock()

	cur, err := s.get(ctx, in.ID)
	exists := err == nil
	switch {
	case errdefs.IsKind(err, errdefs.NotFound):
	case err != nil:
		return View{}, Operation{}, false, err
	default:
		if cur.Location != loc {
			return View{}, Operation{}, false, ErrLocationMismatch.WithMessage("The resource '%s' already exists in location '%s'. A resource with the same name cannot be created in location '%s'.",
				name, cur.Location, loc).WithTarget("location")
		}
		if transitioning(cur) {
			return View{}, Operation{}, false, transitioningError(name)
		}
		if err := checkUpdate(&cur.Spec, &spec, name); err != nil {
			return View{}, Operation{}, false, err
		}
	}
	images, err := s.resolveAll(ctx, name, spec)
	if err != nil {
		return View{}, Operation{}, false, err
	}
	sealed, err := s.seal(spec)
	if err != nil {
		return View{}, Operation{}, false, err
	}
	now := s.now().UTC()
	var g Group
	if exists {
		g, err = s.store.UpdateGroup(ctx, in.ID, func(g *Group) error {
			g.Tags = maps.Clone(in.Tags)
			g.SealedSpec = sealed
			g.ProvisioningState = StatePending
			g.Stopped = false
			g.Images = images
			g.DNSNameLabel = dnsLabel(spec)
			g.ChangedAt, g.ChangedBy = now, in.Caller
			return s.assignIP(ctx, g, spec)
		})
	} else {
		g, err = s.create(ctx, Group{
			ID: in.ID, Name: name, Location: loc, Tags: maps.Clone(in.Tags),
			InstanceID: newID(), SealedSpec: sealed, ProvisioningState: StatePending,
			Images: images, Events: map[string][]Event{}, DNSNameLabel: dnsLabel(spec), Owner: s.id,
			CreatedAt: now, CreatedBy: in.Caller, ChangedAt: now, ChangedBy: in.Caller,
		}, spec)
	}
	if err != nil {
		return View{}, Operation{}, false, err
	}
	g.Spec = spec
	op, err := s.beginProvisioning(ctx, g)
	if err != nil {
		return View{}, Operation{}, false, err
	}
	s.log.InfoContext(ctx, "container group accepted", "group", g.ID.String(), "instance", g.InstanceID, "created", !exists)
	return View{Group: g, State: StatePending, FQDN: s.fqdn(g)}, op, !exists, nil
}

// create stores a new group, retrying the IP choice when another group
// took it first.
func (s *Service) create(ctx context.Context, g Group, spec Spec) (Group, error) {
	for range 8 {
		if err := s.assignIP(ctx, &g, spec); err != nil {
			return Group{}, err
		}
		err := s.store.CreateGroup(ctx, g)
		switch {
		case err == nil:
			return g, nil
		case errors.Is(err, errdefs.New(errdefs.Conflict, ReasonIPTaken, "")):
			g.IP = netip.Addr{}
			continue
		case errors.Is(err, errdefs.New(errdefs.Conflict, ReasonDNSLabelTaken, "")):
			return Group{}, dnsLabelTaken(spec.IPAddress.DNSNameLabel, g.Name)
		case errdefs.IsKind(err, errdefs.NotFound):
			return Group{}, resource.ErrGroupNotFound.WithMessage("Resource group '%s' could not be found.", g.ID.ResourceGroup).WithTarget(g.ID.ResourceGroup)
		default:
			return Group{}, err
		}
	}
	return Group{}, errdefs.New(errdefs.Unavailable, "", "no free group address")
}

func dnsLabel(spec Spec) string {
	if spec.IPAddress == nil {
		return ""
	}
	return spec.IPAddress.DNSNameLabel
}

func dnsLabelTaken(label, group string) error {
	return errdefs.Newf(errdefs.Conflict, ReasonDNSLabelTaken,
		"The DNS name label '%s' in container group '%s' is not available. Try using a different label.", label, group).WithTarget("properties.ipAddress.dnsNameLabel")
}

// assignIP gives a group that asks for an IP address the lowest free
// address of the pool, and takes it away from one that no longer asks.
func (s *Service) assignIP(ctx context.Context, g *Group, spec Spec) error {
	if spec.IPAddress == nil {
		g.IP = netip.Addr{}
		return nil
	}
	if g.IP.IsValid() {
		return nil
	}
	all, err := s.store.ListGroups(ctx, "", "")
	if err != nil {
		return err
	}
	used := map[netip.Addr]bool{}
	for _, o := range all {
		if o.IP.IsValid() && !o.ID.Equal(g.ID) {
			used[o.IP] = true
		}
	}
	for a := s.pool.Addr().Next(); s.pool.Contains(a); a = a.Next() {
		if b := a.As4(); b[3] == 0 || b[3] == 255 || used[a] {
			continue
		}
		g.IP = a
		return nil
	}
	return errdefs.New(errdefs.ResourceExhausted, "ContainerGroupQuotaReached", "no free group address is left in "+s.pool.String())
}

// resolveAll checks every image of a spec, in parallel, and reports the
// first inaccessible one as ACI does, with a detail saying why.
func (s *Service) resolveAll(ctx context.Context, group string, spec Spec) (map[string]ResolvedImage, error) {
	all := spec.all()
	out := make([]ResolvedImage, len(all))
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, c := range all {
		wg.Go(func() {
			out[i], errs[i] = s.images.Resolve(ctx, c.Image, credentialFor(spec.Credentials, c.Image))
		})
	}
	wg.Wait()
	images := map[string]ResolvedImage{}
	for i, c := range all {
		if errs[i] != nil {
			return nil, s.inaccessible(ctx, group, c.Image, errs[i])
		}
		images[c.Name] = out[i]
	}
	return images, nil
}

// inaccessible is ACI's InaccessibleImage, with a detail naming the check
// that failed (Azure gives one message for every cause; users ask which).
func (s *Service) inaccessible(ctx context.Context, group, image string, err error) error {
	e := ErrInaccessibleImage.WithMessage("The image '%s' in container group '%s' is not accessible. Please check the image and registry credential.", image, group).WithTarget("properties.containers")
	if ie, ok := errors.AsType[*ImageError](err); ok {
		s.log.InfoContext(ctx, "image not accessible", "group", group, "image", image, "check", string(ie.Check), "cause", ie.Cause)
		return e.WithDetails(errdefs.New(errdefs.InvalidArgument, string(ie.Check), ie.Message))
	}
	if ctx.Err() != nil {
		return errdefs.As(ctx.Err())
	}
	return e.WithCause(err)
}

// credentialFor picks the credential whose server is the image's
// registry host.
func credentialFor(creds []Credential, image string) *Credential {
	host := imageHost(image)
	for i := range creds {
		if strings.EqualFold(creds[i].Server, host) {
			return &creds[i]
		}
	}
	return nil
}

// imageHost is the registry part of a reference ("docker.io" when the
// first component is not a host), as docker parses references.
func imageHost(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "docker.io"
	}
	return first
}

func transitioning(g Group) bool {
	return g.ProvisioningState == StatePending || g.ProvisioningState == StateCreating
}

func transitioningError(name string) error {
	return ErrTransitioning.WithMessage("The container group '%s' is still transitioning, please retry later.", name)
}

func newID() string { return uuid.NewString() }

// ---- reads

// View is a group with its runtime state, as GET shows it.
type View struct {
	Group
	// State is the group's instanceView.state.
	State string
	// Status is what the runner recorded (nil before the group first ran).
	Status *GroupStatus
	// FQDN is the group's DNS name when it has a DNS name label.
	FQDN string
}

// Get returns a group with its instance view.
func (s *Service) Get(ctx context.Context, id resourceid.ID) (View, error) {
	g, err := s.get(ctx, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, g), nil
}

// List lists a subscription's groups (or a resource group's), without
// instance views.
func (s *Service) List(ctx context.Context, subscriptionID, group string) ([]View, error) {
	gs, err := s.store.ListGroups(ctx, strings.ToLower(subscriptionID), group)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(gs))
	for _, g := range gs {
		if err := s.open(&g); err != nil {
			return nil, err
		}
		out = append(out, View{Group: g, FQDN: s.fqdn(g)})
	}
	return out, nil
}

func (s *Service) fqdn(g Group) string {
	if g.Spec.IPAddress == nil || g.Spec.IPAddress.DNSNameLabel == "" {
		return ""
	}
	return g.Spec.IPAddress.DNSNameLabel + "." + g.Location + "." + s.domain
}

func (s *Service) view(ctx context.Context, g Group) View {
	v := View{Group: g, FQDN: s.fqdn(g)}
	st, err := s.runner.Status(ctx, g.InstanceID)
	switch {
	case err == nil:
		v.Status = &st
	case !errdefs.IsKind(err, errdefs.NotFound):
		s.log.WarnContext(ctx, "runner status", "group", g.ID.String(), "err", err)
	}
	v.State = groupState(g, v.Status)
	return v
}

// groupState is ACI's instanceView.state of a group.
func groupState(g Group, st *GroupStatus) string {
	switch {
	case transitioning(g):
		return StatePending
	case g.ProvisioningState == StateFailed:
		return StateFailed
	case g.Stopped:
		return "Stopped"
	case st == nil:
		return StatePending
	case st.Active:
		return "Running"
	}
	for _, c := range st.Containers {
		if c.Current.State == "Terminated" && c.Current.ExitCode != 0 {
			return StateFailed
		}
	}
	return StateSucceeded
}

// Events returns a container's events: the domain's (pulls) and the
// runner's, in time order.
func (v View) Events(container string) []Event {
	evs := slices.Clone(v.Group.Events[container])
	if st, ok := v.ContainerStatus(container); ok {
		evs = append(evs, st.Events...)
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.First.Compare(b.First) })
	return evs
}

// ContainerStatus returns what the runner recorded for a container.
func (v View) ContainerStatus(container string) (ContainerStatus, bool) {
	if v.Status == nil {
		return ContainerStatus{}, false
	}
	for _, list := range [][]ContainerStatus{v.Status.InitContainers, v.Status.Containers} {
		for _, c := range list {
			if c.Name == container {
				return c, true
			}
		}
	}
	return ContainerStatus{}, false
}

// UpdateTags is PATCH: it replaces the tags.
func (s *Service) UpdateTags(ctx context.Context, id resourceid.ID, tags map[string]string, caller string) (View, error) {
	if err := resource.ValidateTags(tags); err != nil {
		return View{}, err
	}
	g, err := s.store.UpdateGroup(ctx, id, func(g *Group) error {
		g.Tags = maps.Clone(tags)
		g.ChangedAt, g.ChangedBy = s.now().UTC(), caller
		return nil
	})
	if errdefs.IsKind(err, errdefs.NotFound) {
		return View{}, groupNotFound(id)
	}
	if err != nil {
		return View{}, err
	}
	if err := s.open(&g); err != nil {
		return View{}, err
	}
	return s.view(ctx, g), nil
}

// ---- lifecycle

// Delete stops a group's containers, releases all it held and removes it.
// It returns the group as it was (ACI answers the DELETE with its body).
func (s *Service) Delete(ctx context.Context, id resourceid.ID) (View, error) {
	unlock := s.lock(id)
	defer unlock()
	g, err := s.get(ctx, id)
	if err != nil {
		return View{}, err
	}
	s.cancelProvisioning(g.ID)
	v := s.view(ctx, g)
	if err := s.runner.Remove(ctx, g.InstanceID); err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
		return View{}, err
	}
	if err := s.store.DeleteGroup(ctx, id); err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
		return View{}, err
	}
	s.log.InfoContext(ctx, "container group deleted", "group", id.String(), "instance", g.InstanceID)
	return v, nil
}

// Stop kills every container of the group (synchronously, as ACI's stop).
func (s *Service) Stop(ctx context.Context, id resourceid.ID, caller string) error {
	unlock := s.lock(id)
	defer unlock()
	g, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	if transitioning(g) {
		return transitioningError(g.Name)
	}
	if err := s.runner.Stop(ctx, g.InstanceID); err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
		return err
	}
	_, err = s.store.UpdateGroup(ctx, id, func(g *Group) error {
		g.Stopped = true
		g.ChangedAt, g.ChangedBy = s.now().UTC(), caller
		return nil
	})
	return err
}

// Start starts a stopped (or finished) group again as a new deployment of
// the same spec. It returns the operation, or ok=false when the group is
// already running (ACI's 204).
func (s *Service) Start(ctx context.Context, id resourceid.ID, caller string) (Operation, bool, error) {
	return s.redeploy(ctx, id, caller, false)
}

// Restart restarts every container of the group in place, re-checking and
// re-pulling the images.
func (s *Service) Restart(ctx context.Context, id resourceid.ID, caller string) error {
	_, _, err := s.redeploy(ctx, id, caller, true)
	return err
}

func (s *Service) redeploy(ctx context.Context, id resourceid.ID, caller string, restart bool) (Operation, bool, error) {
	unlock := s.lock(id)
	defer unlock()
	g, err := s.get(ctx, id)
	if err != nil {
		return Operation{}, false, err
	}
	if transitioning(g) {
		return Operation{}, false, transitioningError(g.Name)
	}
	if !restart && !g.Stopped && g.ProvisioningState == StateSucceeded {
		if st, err := s.runner.Status(ctx, g.InstanceID); err == nil && st.Active {
			return Operation{}, false, nil
		}
	}
	images, err := s.resolveAll(ctx, g.Name, g.Spec)
	if err != nil {
		if restart {
			e := errdefs.As(err)
			return Operation{}, false, e.WithMessage("Failed to restart the container group '%s'. Error: Multiple error occurred: 'BadRequest':'%s':%s", g.Name, e.Reason, e.Message)
		}
		return Operation{}, false, err
	}
	g, err = s.store.UpdateGroup(ctx, id, func(g *Group) error {
		g.Stopped = false
		g.ProvisioningState = StatePending
		g.Images = images
		g.ChangedAt, g.ChangedBy = s.now().UTC(), caller
		return nil
	})
	if err != nil {
		return Operation{}, false, err
	}
	if err := s.open(&g); err != nil {
		return Operation{}, false, err
	}
	op, err := s.beginProvisioning(ctx, g)
	return op, true, err
}

// Operation returns an asynchronous operation and the group's container
// events (its status body carries them), checking that it belongs to a
// group the caller may read (authorize, called with the group's id).
func (s *Service) Operation(ctx context.Context, opID string, authorize func(resourceid.ID) error) (Operation, []Event, error) {
	op, err := s.store.GetOperation(ctx, opID)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Operation{}, nil, ErrOperationNotFound.WithMessage("The operation '%s' could not be found.", truncate(opID))
	}
	if err != nil {
		return Operation{}, nil, err
	}
	if err := authorize(op.Group); err != nil {
		return Operation{}, nil, err
	}
	var events []Event
	if g, err := s.get(ctx, op.Group); err == nil {
		v := s.view(ctx, g)
		for _, c := range g.Spec.Containers {
			events = append(events, v.Events(c.Name)...)
		}
	}
	return op, events, nil
}

// Logs returns a container's log.
func (s *Service) Logs(ctx context.Context, id resourceid.ID, container string, tail int, timestamps bool) (string, error) {
	g, err := s.get(ctx, id)
	if err != nil {
		return "", err
	}
	if !g.hasContainer(container) {
		return "", s.containerNotFound(g, container)
	}
	rc, err := s.runner.Logs(ctx, g.InstanceID, container, LogOptions{Tail: tail, Timestamps: timestamps})
	if errdefs.IsKind(err, errdefs.NotFound) {
		return "", ErrLogNotAvailable.WithMessage("Log of container '%s' in container group '%s' is not available yet. Please check container 'InstanceView' for more information or retry later.", container, g.Name)
	}
	if err != nil {
		return "", err
	}
	defer func() { _ = rc.Close() }()
	// ACI returns at most 4 MB of log.
	b, err := io.ReadAll(io.LimitReader(rc, 4<<20))
	if err != nil {
		return "", errdefs.Internalf(err, "read log")
	}
	return string(b), nil
}

func (g Group) hasContainer(name string) bool {
	for _, c := range g.Spec.all() {
		if c.Name == name {
			return true
		}
	}
	return false
}

func (s *Service) containerNotFound(g Group, container string) error {
	return ErrContainerNotFound.WithMessage("The container '%s' is not found in container group '%s'.", truncate(container), g.Name).WithTarget(truncate(container))
}

// ---- reconciler

// Run renews this server's lease (heartbeats), re-adopts what the runner
// kept from before, then keeps what runs equal to what the store says
// until ctx ends, for the groups this server owns: groups of dead servers
// (and groups without owner) are claimed, groups deleted (with their
// resource group, or through another server) or owned by another server
// are removed from the runner, groups whose provisioning was interrupted
// are provisioned again, and groups that should run but that the runner
// no longer knows (after a reboot, or taken over) are started again.
func (s *Service) Run(ctx context.Context) {
	s.mu.Lock()
	s.base = ctx
	s.mu.Unlock()
	// Live before the first claim: a server that claims while looking dead
	// to the others would race them for its own groups.
	s.heartbeat(ctx)
	beats := make(chan struct{})
	go func() { s.heartbeats(ctx); close(beats) }()
	defer func() { <-beats }()
	if _, err := s.runner.Recover(ctx); err != nil {
		s.log.ErrorContext(ctx, "runner recovery", "err", err)
	}
	t := time.NewTicker(s.every)
	defer t.Stop()
	var pruned time.Time
	for {
		s.reconcile(ctx)
		if now := s.now(); now.Sub(pruned) >= PruneEvery {
			s.pruneImages(ctx)
			pruned = now
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for _, cancel := range s.working {
				cancel()
			}
			s.mu.Unlock()
			return
		case <-t.C:
		}
		s.expireSessions()
	}
}

func (s *Service) reconcile(ctx context.Context) {
	gs, err := s.owned(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "reconcile: list groups", "err", err)
		return
	}
	s.removeStrays(ctx, gs)
	for _, g := range gs {
		s.mu.Lock()
		_, busy := s.working[g.ID.Key()]
		s.mu.Unlock()
		if busy || g.ProvisioningState == StateFailed {
			continue
		}
		if g.Stopped {
			// Stopped in the store (by this server, or by another one
			// that served the stop without forwarding it): nothing of it
			// may still run here.
			s.stopStray(ctx, g)
			continue
		}
		if transitioning(g) {
			s.resume(ctx, g, "resuming interrupted provisioning")
			continue
		}
		if _, err := s.runner.Status(ctx, g.InstanceID); errdefs.IsKind(err, errdefs.NotFound) {
			s.resume(ctx, g, "starting a group the runner lost")
		}
	}
}

// stopStray stops a group the store says is stopped but whose containers
// still run here.
func (s *Service) stopStray(ctx context.Context, g Group) {
	st, err := s.runner.Status(ctx, g.InstanceID)
	if err != nil || !st.Active {
		return
	}
	unlock := s.lock(g.ID)
	defer unlock()
	// Look again under the lock: a start may have begun meanwhile.
	s.mu.Lock()
	_, busy := s.working[g.ID.Key()]
	s.mu.Unlock()
	if g, err = s.get(ctx, g.ID); err != nil || busy || !g.Stopped {
		return
	}
	s.log.InfoContext(ctx, "stopping a group the store says is stopped", "group", g.ID.String(), "instance", g.InstanceID)
	if err := s.runner.Stop(ctx, g.InstanceID); err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
		s.log.WarnContext(ctx, "reconcile: stop", "group", g.ID.String(), "err", err)
	}
}

// owned lists the groups this server runs, first claiming those whose
// owner is dead (or that have none). Groups of live peers are theirs.
func (s *Service) owned(ctx context.Context) ([]Group, error) {
	gs, err := s.store.ListGroups(ctx, "", "")
	if err != nil {
		return nil, err
	}
	var live map[string]Server
	out := gs[:0]
	for _, g := range gs {
		if g.Owner != s.id {
			if live == nil {
				if live, err = s.liveServers(ctx); err != nil {
					return nil, err
				}
			}
			if _, ok := live[g.Owner]; ok {
				continue
			}
			ok, err := s.claim(ctx, g)
			if err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
				s.log.WarnContext(ctx, "reconcile: claim", "group", g.ID.String(), "err", err)
			}
			if !ok {
				continue
			}
			g.Owner = s.id
		}
		out = append(out, g)
	}
	return out, nil
}

// removeStrays removes from the runner what this server should not run:
// groups deleted from the store (with their resource group, or by another
// server) and groups another server took over while this one was taken
// for dead.
func (s *Service) removeStrays(ctx context.Context, gs []Group) {
	ids, err := s.runner.Recover(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "reconcile: runner groups", "err", err)
	}
	mine := func(gs []Group) map[string]bool {
		m := map[string]bool{}
		for _, g := range gs {
			m[g.InstanceID] = true
		}
		return m
	}
	known := mine(gs)
	var strays []string
	for _, id := range ids {
		if !known[id] {
			strays = append(strays, id)
		}
	}
	if len(strays) == 0 {
		return
	}
	// Look again: a group created here after the first list may already
	// run.
	all, err := s.store.ListGroups(ctx, "", "")
	if err != nil {
		s.log.WarnContext(ctx, "reconcile: list groups", "err", err)
		return
	}
	var again []Group
	for _, g := range all {
		if g.Owner == s.id {
			again = append(again, g)
		}
	}
	known = mine(again)
	for _, id := range strays {
		if known[id] {
			continue
		}
		s.log.InfoContext(ctx, "removing a container group this server does not own", "instance", id)
		if err := s.runner.Remove(ctx, id); err != nil {
			s.log.WarnContext(ctx, "reconcile: remove", "instance", id, "err", err)
		}
	}
}

// PruneEvery is how often the image cache drops what no group uses.
const PruneEvery = 10 * time.Minute

// pruneImages drops cached images and layers that no stored group uses:
// the store is the reference count, so it survives restarts.
func (s *Service) pruneImages(ctx context.Context) {
	gs, err := s.store.ListGroups(ctx, "", "")
	if err != nil {
		s.log.WarnContext(ctx, "prune images: list groups", "err", err)
		return
	}
	var keep []string
	for _, g := range gs {
		for _, img := range g.Images {
			keep = append(keep, img.Digest)
		}
	}
	if err := s.images.Prune(ctx, keep); err != nil {
		s.log.WarnContext(ctx, "prune images", "err", err)
	}
}

func (s *Service) resume(ctx context.Context, g Group, why string) {
	unlock := s.lock(g.ID)
	defer unlock()
	// Look again under the lock: a PUT or start may have begun provisioning
	// while this waited for it.
	s.mu.Lock()
	_, busy := s.working[g.ID.Key()]
	s.mu.Unlock()
	if busy {
		return
	}
	g, err := s.get(ctx, g.ID)
	if err != nil || g.Owner != s.id || g.Stopped || g.ProvisioningState == StateFailed {
		return
	}
	if !transitioning(g) {
		if _, err := s.runner.Status(ctx, g.InstanceID); !errdefs.IsKind(err, errdefs.NotFound) {
			return
		}
	}
	s.log.InfoContext(ctx, "reconciling a container group", "why", why, "group", g.ID.String(), "instance", g.InstanceID)
	if _, err := s.beginProvisioning(ctx, g); err != nil {
		s.log.WarnContext(ctx, "reconcile: provision", "group", g.ID.String(), "err", err)
	}
}

// ---- provisioning

// beginProvisioning records an operation and provisions the group in the
// background: pull every image (Pulling/Pulled events), then hand the
// group to the runner. The caller holds the group's lock.
func (s *Service) beginProvisioning(ctx context.Context, g Group) (Operation, error) {
	op := Operation{ID: newID(), Group: g.ID, Location: g.Location, Status: OpInProgress, StartTime: s.now().UTC()}
	if err := s.store.PutOperation(ctx, op); err != nil {
		return Operation{}, err
	}
	s.mu.Lock()
	if cancel, ok := s.working[g.ID.Key()]; ok {
		cancel()
	}
	wctx, cancel := context.WithCancel(s.base)
	s.working[g.ID.Key()] = cancel
	s.mu.Unlock()
	go func() {
		defer cancel()
		s.provision(wctx, g, op)
		s.mu.Lock()
		if s.working[g.ID.Key()] != nil && wctx.Err() == nil {
			delete(s.working, g.ID.Key())
		}
		s.mu.Unlock()
	}()
	return op, nil
}

func (s *Service) cancelProvisioning(id resourceid.ID) {
	s.mu.Lock()
	if cancel, ok := s.working[id.Key()]; ok {
		cancel()
		delete(s.working, id.Key())
	}
	s.mu.Unlock()
}

func (s *Service) provision(ctx context.Context, g Group, op Operation) {
	err := s.provisionSteps(ctx, g)
	if ctx.Err() != nil {
		return // deleted, replaced by a newer operation, or the server stops
	}
	state, status := StateSucceeded, OpSucceeded
	if err != nil {
		state, status = StateFailed, OpFailed
		e := errdefs.As(err)
		op.ErrorCode, op.ErrorMessage = e.Reason, e.Message
		if e.Kind == errdefs.Internal || op.ErrorCode == "" {
			op.ErrorCode, op.ErrorMessage = "InternalServerError", "The container group could not be started."
		}
		s.log.ErrorContext(ctx, "container group provisioning failed", "group", g.ID.String(), "err", err)
	}
	bg := context.WithoutCancel(ctx)
	if _, uerr := s.store.UpdateGroup(bg, g.ID, func(cur *Group) error {
		if cur.InstanceID != g.InstanceID {
			return nil
		}
		cur.ProvisioningState = state
		return nil
	}); uerr != nil && !errdefs.IsKind(uerr, errdefs.NotFound) {
		s.log.ErrorContext(ctx, "record provisioning state", "group", g.ID.String(), "err", uerr)
	}
	op.Status, op.EndTime = status, s.now().UTC()
	if perr := s.store.PutOperation(bg, op); perr != nil {
		s.log.ErrorContext(ctx, "record operation", "op", op.ID, "err", perr)
	}
}

func (s *Service) provisionSteps(ctx context.Context, g Group) error {
	if _, err := s.store.UpdateGroup(ctx, g.ID, func(cur *Group) error {
		cur.ProvisioningState = StateCreating
		return nil
	}); err != nil {
		return err
	}
	specs := func(cs []Container) ([]ContainerSpec, error) {
		out := make([]ContainerSpec, 0, len(cs))
		for _, c := range cs {
			img, err := s.pull(ctx, g, c)
			if err != nil {
				return nil, err
			}
			out = append(out, containerSpec(c, img))
		}
		return out, nil
	}
	inits, err := specs(g.Spec.InitContainers)
	if err != nil {
		return err
	}
	mains, err := specs(g.Spec.Containers)
	if err != nil {
		return err
	}
	volumes, err := runVolumes(g.Spec.Volumes)
	if err != nil {
		return err
	}
	run := RunSpec{
		ID: g.InstanceID, Hostname: g.Name, Restart: g.Spec.RestartPolicy, IP: g.IP,
		InitContainers: inits, Containers: mains, Volumes: volumes,
	}
	if g.Spec.IPAddress != nil {
		run.Ports = g.Spec.IPAddress.Ports
	}
	// An update or restart replaces what runs.
	if err := s.runner.Stop(ctx, g.InstanceID); err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
		return err
	}
	return s.runner.Start(ctx, run)
}

// pull fetches one container's image, recording ACI's events.
func (s *Service) pull(ctx context.Context, g Group, c Container) (Image, error) {
	resolved, ok := g.Images[c.Name]
	if !ok {
		var err error
		if resolved, err = s.images.Resolve(ctx, c.Image, credentialFor(g.Spec.Credentials, c.Image)); err != nil {
			s.event(ctx, g, c.Name, "Failed", fmt.Sprintf("Failed to pull image %q: %s", c.Image, errMessage(err)), "Warning")
			return Image{}, s.inaccessible(ctx, g.Name, c.Image, err)
		}
	}
	s.event(ctx, g, c.Name, "Pulling", fmt.Sprintf("pulling image %q", resolved.DigestRef), "Normal")
	img, err := s.images.Pull(ctx, resolved, credentialFor(g.Spec.Credentials, c.Image))
	if err != nil {
		s.event(ctx, g, c.Name, "Failed", fmt.Sprintf("Failed to pull image %q: %s", resolved.DigestRef, errMessage(err)), "Warning")
		return Image{}, s.inaccessible(ctx, g.Name, c.Image, err)
	}
	s.event(ctx, g, c.Name, "Pulled", fmt.Sprintf("Successfully pulled image %q", resolved.DigestRef), "Normal")
	return img, nil
}

func errMessage(err error) string {
	if ie, ok := errors.AsType[*ImageError](err); ok {
		return ie.Message
	}
	return errdefs.As(err).Message
}

// event records a domain event on a container, coalescing repeats.
func (s *Service) event(ctx context.Context, g Group, container, name, message, typ string) {
	now := s.now().UTC().Truncate(time.Second)
	_, err := s.store.UpdateGroup(ctx, g.ID, func(cur *Group) error {
		if cur.Events == nil {
			cur.Events = map[string][]Event{}
		}
		cur.Events[container] = addEvent(cur.Events[container], Event{Name: name, Message: message, Type: typ, Count: 1, First: now, Last: now})
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "record event", "group", g.ID.String(), "err", err)
	}
}

// addEvent appends e, or counts it on an earlier event of the same name
// and message, as ACI coalesces.
func addEvent(evs []Event, e Event) []Event {
	for i := range evs {
		if evs[i].Name == e.Name && evs[i].Message == e.Message {
			evs[i].Count++
			evs[i].Last = e.Last
			return evs
		}
	}
	return append(evs, e)
}

func containerSpec(c Container, img Image) ContainerSpec {
	cs := ContainerSpec{Name: c.Name, Image: img, Command: c.Command}
	for _, e := range c.Env {
		cs.Env = append(cs.Env, EnvVar{Name: e.Name, Value: e.Value})
	}
	// The limit is the limit when given, else the request (ACI reserves
	// the request for the container).
	if c.Requests != nil {
		cs.CPU, cs.MemoryBytes = c.Requests.CPU, gb(c.Requests.MemoryGB)
	}
	if c.Limits != nil {
		if c.Limits.CPU > 0 {
			cs.CPU = c.Limits.CPU
		}
		if c.Limits.MemoryGB > 0 {
			cs.MemoryBytes = gb(c.Limits.MemoryGB)
		}
	}
	cs.Mounts = append(cs.Mounts, c.Mounts...)
	return cs
}

func gb(v float64) int64 { return int64(v * (1 << 30)) }

// ---- exec and attach sessions

// session is a pending exec or attach websocket session.
type session struct {
	group     Group
	container string
	command   []string // nil: attach
	size      TerminalSize
	password  string
	expires   time.Time
}

// SessionTTL is how long an exec or attach session may wait for its
// websocket.
const SessionTTL = 2 * time.Minute

// Session is what exec and attach hand out: a one-time websocket session.
type Session struct {
	ID       string
	Password string
}

// Exec prepares an exec session: the command runs once the websocket
// connects and sends the password. ACI takes one command string; Cerulean
// splits it on white space, as virtual-kubelet's clients expect.
func (s *Service) Exec(ctx context.Context, id resourceid.ID, container, command string, size TerminalSize) (Session, error) {
	argv := strings.Fields(command)
	if len(argv) == 0 {
		return Session{}, errdefs.New(errdefs.InvalidArgument, "InvalidExecCommand", "The exec command cannot be empty.").WithTarget("command")
	}
	return s.newSession(ctx, id, container, argv, size)
}

// Attach prepares an attach session: the container's output, followed.
func (s *Service) Attach(ctx context.Context, id resourceid.ID, container string) (Session, error) {
	return s.newSession(ctx, id, container, nil, TerminalSize{})
}

func (s *Service) newSession(ctx context.Context, id resourceid.ID, container string, argv []string, size TerminalSize) (Session, error) {
	g, err := s.get(ctx, id)
	if err != nil {
		return Session{}, err
	}
	if !g.hasContainer(container) {
		return Session{}, s.containerNotFound(g, container)
	}
	v := s.view(ctx, g)
	if st, ok := v.ContainerStatus(container); argv != nil && (!ok || st.Current.State != "Running") {
		return Session{}, ErrContainerNotActive.WithMessage("The container '%s' in container group '%s' is not running.", container, g.Name)
	}
	if size.Rows == 0 || size.Cols == 0 {
		size = TerminalSize{Rows: 24, Cols: 80}
	}
	sess := &session{group: g, container: container, command: argv, size: size, password: randomToken(), expires: s.now().Add(SessionTTL)}
	// The id names this server: the websocket may reach any server.
	sid := s.id + sessionSep + newID()
	s.mu.Lock()
	s.sessions[sid] = sess
	s.mu.Unlock()
	return Session{ID: sid, Password: sess.password}, nil
}

// OpenSession consumes a session: with the right password it starts the
// exec'd process (or the attach stream). A session opens at most once.
func (s *Service) OpenSession(ctx context.Context, id, password string, size TerminalSize) (Process, error) {
	s.mu.Lock()
	sess := s.sessions[id]
	delete(s.sessions, id)
	s.mu.Unlock()
	if sess == nil || s.now().After(sess.expires) || !equalSecret(sess.password, password) {
		return nil, ErrSessionInvalid.WithMessage("The exec session is unknown, expired or its password is wrong.")
	}
	if size.Rows == 0 || size.Cols == 0 {
		size = sess.size
	}
	if sess.command == nil {
		rc, err := s.runner.Logs(ctx, sess.group.InstanceID, sess.container, LogOptions{Follow: true})
		if err != nil {
			return nil, err
		}
		return &attachProcess{rc: rc}, nil
	}
	return s.runner.Exec(ctx, sess.group.InstanceID, sess.container, sess.command, size)
}

// PeekSession reports whether a session exists (for the websocket
// surface, which answers 404 before upgrading for unknown ones).
func (s *Service) PeekSession(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	return sess != nil && !s.now().After(sess.expires)
}

func (s *Service) expireSessions() {
	now := s.now()
	s.mu.Lock()
	for id, sess := range s.sessions {
		if now.After(sess.expires) {
			delete(s.sessions, id)
		}
	}
	s.mu.Unlock()
}

// attachProcess is an attach session: output only.
type attachProcess struct{ rc io.ReadCloser }

func (a *attachProcess) Stdin() io.WriteCloser     { return nopWriteCloser{} }
func (a *attachProcess) Output() io.Reader         { return a.rc }
func (a *attachProcess) Resize(TerminalSize) error { return nil }
func (a *attachProcess) Wait() (int, error)        { return 0, nil }
func (a *attachProcess) Close() error              { return a.rc.Close() }

type nopWriteCloser struct{}

func (nopWriteCloser) Write(p []byte) (int, error) { return len(p), nil }
func (nopWriteCloser) Close() error                { return nil }

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// runVolumes decodes the spec's volumes for the runner.
func runVolumes(vs []VolumeSpec) ([]Volume, error) {
	out := make([]Volume, 0, len(vs))
	for _, v := range vs {
		rv := Volume{Name: v.Name, EmptyDir: v.EmptyDir}
		if v.Secret != nil {
			rv.Secret = make(map[string][]byte, len(v.Secret))
			for file, content := range v.Secret {
				b, err := base64.StdEncoding.DecodeString(content)
				if err != nil {
					return nil, ErrInvalidVolume.WithMessage("The secret value of '%s' in volume '%s' is not valid base64.", truncate(file), v.Name)
				}
				rv.Secret[file] = b
			}
		}
		out = append(out, rv)
	}
	return out, nil
}
