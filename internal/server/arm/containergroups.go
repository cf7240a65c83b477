package arm

// Microsoft.ContainerInstance: container groups and the provider's
// location endpoints, plugged into the router.
//
//	PUT    …/containerGroups/{g}                      containerGroups/write   201 new, 200 update; LRO (Azure-AsyncOperation)
//	GET    …/containerGroups/{g}                      containerGroups/read    200 with instanceView
//	PATCH  …/containerGroups/{g}                      containerGroups/write   200 (tags)
//	DELETE …/containerGroups/{g}                      containerGroups/delete  200 with the body, 204 when absent
//	GET    {group|subscription}/…/containerGroups     containerGroups/read    200, no instanceView
//	POST   …/containerGroups/{g}/start                start/action            202 + Azure-AsyncOperation, 204 when running
//	POST   …/containerGroups/{g}/stop                 stop/action             204
//	POST   …/containerGroups/{g}/restart              restart/action          204
//	GET    …/containerGroups/{g}/outboundNetworkDependenciesEndpoints          200 []
//	GET    …/containerGroups/{g}/containers/{c}/logs  containers/logs/read    200 {content}
//	POST   …/containerGroups/{g}/containers/{c}/exec  containers/exec/action  200 {webSocketUri, password}
//	POST   …/containerGroups/{g}/containers/{c}/attach containers/attach/action 200 {webSocketUri, password}
//	GET    /subscriptions/{s}/providers/Microsoft.ContainerInstance/locations/{l}/operations/{id}
//	GET    /subscriptions/{s}/providers/Microsoft.ContainerInstance/locations/{l}/{usages|capabilities|cachedImages}
//	GET    /providers/Microsoft.ContainerInstance/operations
//
// Status codes are exactly those armcontainerinstance/v2 v2.4.0 accepts
// (/shared/reference/aci.md §3). Passwords, secure values and secret
// volume contents never leave the server.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	cg "github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

// ContainerGroups is the part of containergroup.Service the provider calls.
type ContainerGroups interface {
	CreateOrUpdate(ctx context.Context, in cg.CreateInput) (cg.View, cg.Operation, bool, error)
	Get(ctx context.Context, id resourceid.ID) (cg.View, error)
	List(ctx context.Context, subscriptionID, group string) ([]cg.View, error)
	UpdateTags(ctx context.Context, id resourceid.ID, tags map[string]string, caller string) (cg.View, error)
	Delete(ctx context.Context, id resourceid.ID) (cg.View, error)
	Start(ctx context.Context, id resourceid.ID, caller string) (cg.Operation, bool, error)
	Stop(ctx context.Context, id resourceid.ID, caller string) error
	Restart(ctx context.Context, id resourceid.ID, caller string) error
	Operation(ctx context.Context, opID string, authorize func(resourceid.ID) error) (cg.Operation, []cg.Event, error)
	Logs(ctx context.Context, id resourceid.ID, container string, tail int, timestamps bool) (string, error)
	Exec(ctx context.Context, id resourceid.ID, container, command string, size cg.TerminalSize) (cg.Session, error)
	Attach(ctx context.Context, id resourceid.ID, container string) (cg.Session, error)
}

// The Microsoft.ContainerInstance actions (Azure's provider operations).
const (
	aciNamespace       = "Microsoft.ContainerInstance"
	aciGroupType       = cg.ResourceType
	actionCGRead       = aciGroupType + "/read"
	actionCGWrite      = aciGroupType + "/write"
	actionCGDelete     = aciGroupType + "/delete"
	actionCGStart      = aciGroupType + "/start/action"
	actionCGStop       = aciGroupType + "/stop/action"
	actionCGRestart    = aciGroupType + "/restart/action"
	actionCGOutbound   = aciGroupType + "/outboundNetworkDependenciesEndpoints/read"
	actionLogsRead     = aciGroupType + "/containers/logs/read"
	actionExec         = aciGroupType + "/containers/exec/action"
	actionAttach       = aciGroupType + "/containers/attach/action"
	actionLocationRead = aciNamespace + "/locations/read"
)

// asyncOperationAPIVersion is the api-version real ACI puts in its
// Azure-AsyncOperation URLs.
const asyncOperationAPIVersion = "2018-06-01"

// ContainerGroupTypes registers Microsoft.ContainerInstance served by svc.
// location is the server's location, reported by capabilities.
func ContainerGroupTypes(svc ContainerGroups) []ResourceType {
	p := containerGroupsProvider{svc: svc}
	return []ResourceType{
		{
			Namespace: aciNamespace, Type: "containerGroups",
			Item: Methods{
				http.MethodGet:    {Action: actionCGRead, Auth: CheckAction, Serve: p.get},
				http.MethodPut:    {Action: actionCGWrite, Auth: CheckAction, Serve: p.put},
				http.MethodPatch:  {Action: actionCGWrite, Auth: CheckAction, Serve: p.patch},
				http.MethodDelete: {Action: actionCGDelete, Auth: CheckAction, Serve: p.delete},
			},
			Collection: Methods{http.MethodGet: {Action: actionCGRead, Auth: FilterItems, Serve: p.list}},
			Actions: map[string]Op{
				"start":   {Action: actionCGStart, Auth: CheckAction, Serve: p.start},
				"stop":    {Action: actionCGStop, Auth: CheckAction, Serve: p.stop},
				"restart": {Action: actionCGRestart, Auth: CheckAction, Serve: p.restart},
			},
		},
		{
			Namespace: aciNamespace, Type: "containerGroups/outboundNetworkDependenciesEndpoints",
			Collection: Methods{http.MethodGet: {Action: actionCGOutbound, Auth: CheckAction, Serve: p.outbound}},
		},
		{
			Namespace: aciNamespace, Type: "containerGroups/containers",
			Actions: map[string]Op{
				"exec":   {Action: actionExec, Auth: CheckAction, Serve: p.exec},
				"attach": {Action: actionAttach, Auth: CheckAction, Serve: p.attach},
			},
		},
		{
			Namespace: aciNamespace, Type: "containerGroups/containers/logs",
			Collection: Methods{http.MethodGet: {Action: actionLogsRead, Auth: CheckAction, Serve: p.logs}},
		},
		{
			Namespace: aciNamespace, Type: "locations/operations", Proxy: true,
			Item: Methods{http.MethodGet: {Action: actionCGRead, Auth: Authenticated, Serve: p.operation}},
		},
		{
			Namespace: aciNamespace, Type: "locations/usages", Proxy: true,
			Collection: Methods{http.MethodGet: {Action: actionLocationRead, Auth: CheckAction, Serve: p.usages}},
		},
		{
			Namespace: aciNamespace, Type: "locations/capabilities", Proxy: true,
			Collection: Methods{http.MethodGet: {Action: actionLocationRead, Auth: CheckAction, Serve: p.capabilities}},
		},
		{
			Namespace: aciNamespace, Type: "locations/cachedImages", Proxy: true,
			Collection: Methods{http.MethodGet: {Action: actionLocationRead, Auth: CheckAction, Serve: p.cachedImages}},
		},
		{
			Namespace: aciNamespace, Type: "operations", Proxy: true,
			Collection: Methods{http.MethodGet: {Auth: Authenticated, Serve: p.operations}},
		},
	}
}

type containerGroupsProvider struct{ svc ContainerGroups }

// containerGroupOf returns the container group id of a nested route's scope.
func containerGroupOf(scope resourceid.ID) resourceid.ID {
	g := scope
	g.Types, g.Names = scope.Types[:1], scope.Names[:1]
	return g
}

// ---- handlers

func (p containerGroupsProvider) get(ctx context.Context, w http.ResponseWriter, c *Call) error {
	v, err := p.svc.Get(ctx, c.Target)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, containerGroupWire(v, true))
	return nil
}

func (p containerGroupsProvider) put(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.ContainerGroup
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	spec, err := specFromWire(body, c.Name)
	if err != nil {
		return err
	}
	v, op, created, err := p.svc.CreateOrUpdate(ctx, cg.CreateInput{
		ID: c.Target, Location: body.Location, Tags: body.Tags, Spec: spec, Caller: c.Caller.ObjectID,
	})
	if err != nil {
		return err
	}
	setAsyncOperation(w, c, op)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	server.WriteJSON(w, status, containerGroupWire(v, true))
	return nil
}

// setAsyncOperation adds the absolute polling URL of op (on the host the
// client called) and Retry-After: 1, so that SDK pollers do not wait
// their default 30 s.
func setAsyncOperation(w http.ResponseWriter, c *Call, op cg.Operation) {
	u := url.URL{
		Scheme: "https", Host: c.Request.Host,
		Path: fmt.Sprintf("/subscriptions/%s/providers/%s/locations/%s/operations/%s",
			op.Group.SubscriptionID, aciNamespace, op.Location, op.ID),
		RawQuery: "api-version=" + asyncOperationAPIVersion,
	}
	w.Header().Set("Azure-AsyncOperation", u.String())
	w.Header().Set("Retry-After", "1")
}

func (p containerGroupsProvider) patch(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.ContainerGroupPatch
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	v, err := p.svc.UpdateTags(ctx, c.Target, body.Tags, c.Caller.ObjectID)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, containerGroupWire(v, true))
	return nil
}

func (p containerGroupsProvider) delete(ctx context.Context, w http.ResponseWriter, c *Call) error {
	v, err := p.svc.Delete(ctx, c.Target)
	if errors.Is(err, cg.ErrGroupNotFound) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, containerGroupWire(v, true))
	return nil
}

func (p containerGroupsProvider) list(ctx context.Context, w http.ResponseWriter, c *Call) error {
	vs, err := p.svc.List(ctx, c.Scope.SubscriptionID, c.Scope.ResourceGroup)
	if err != nil {
		return err
	}
	out := []arm.ContainerGroup{}
	for _, v := range vs {
		if ok, err := c.Readable(ctx, actionCGRead, v.ID); err != nil {
			return err
		} else if !ok {
			continue
		}
		out = append(out, containerGroupWire(v, false))
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.ContainerGroup]{Value: out})
	return nil
}

func (p containerGroupsProvider) start(ctx context.Context, w http.ResponseWriter, c *Call) error {
	op, started, err := p.svc.Start(ctx, c.Target, c.Caller.ObjectID)
	if err != nil {
		return err
	}
	if !started {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	setAsyncOperation(w, c, op)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (p containerGroupsProvider) stop(ctx context.Context, w http.ResponseWriter, c *Call) error {
	if err := p.svc.Stop(ctx, c.Target, c.Caller.ObjectID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (p containerGroupsProvider) restart(ctx context.Context, w http.ResponseWriter, c *Call) error {
	if err := p.svc.Restart(ctx, c.Target, c.Caller.ObjectID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (p containerGroupsProvider) outbound(ctx context.Context, w http.ResponseWriter, c *Call) error {
	if _, err := p.svc.Get(ctx, c.Scope); err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, []string{})
	return nil
}

func (p containerGroupsProvider) logs(ctx context.Context, w http.ResponseWriter, c *Call) error {
	tail := 0
	if s := c.Query("tail"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errdefs.Newf(errdefs.InvalidArgument, "InvalidParameter", "The 'tail' parameter '%s' is invalid: it must be a non-negative integer.", clip(s)).WithTarget("tail")
		}
		tail = n
	}
	timestamps, _ := strconv.ParseBool(c.Query("timestamps"))
	content, err := p.svc.Logs(ctx, containerGroupOf(c.Scope), c.Scope.Name(), tail, timestamps)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, arm.Logs{Content: content})
	return nil
}

func (p containerGroupsProvider) exec(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.ContainerExecRequest
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	size := cg.TerminalSize{}
	if ts := body.TerminalSize; ts != nil {
		size = cg.TerminalSize{Rows: clampSize(ts.Rows), Cols: clampSize(ts.Cols)}
	}
	sess, err := p.svc.Exec(ctx, containerGroupOf(c.Target), c.Name, body.Command, size)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, arm.ContainerExecResponse{WebSocketURI: sessionURI(c, sess, size), Password: sess.Password})
	return nil
}

func (p containerGroupsProvider) attach(ctx context.Context, w http.ResponseWriter, c *Call) error {
	sess, err := p.svc.Attach(ctx, containerGroupOf(c.Target), c.Name)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, arm.ContainerExecResponse{WebSocketURI: sessionURI(c, sess, cg.TerminalSize{}), Password: sess.Password})
	return nil
}

func clampSize(n int) uint16 {
	return uint16(max(0, min(n, 1000)))
}

// sessionURI is the websocket URL of an exec or attach session, in ACI's
// shape, on the host the client called.
func sessionURI(c *Call, sess cg.Session, size cg.TerminalSize) string {
	q := url.Values{"api-version": {"1.0"}}
	if size.Rows > 0 && size.Cols > 0 {
		q.Set("rows", strconv.Itoa(int(size.Rows)))
		q.Set("cols", strconv.Itoa(int(size.Cols)))
	}
	u := url.URL{Scheme: "wss", Host: c.Request.Host, Path: "/execstream/sessionId/" + sess.ID, RawQuery: q.Encode()}
	return u.String()
}

// operation serves an Azure-AsyncOperation URL. The caller must be able
// to read the group the operation is about.
func (p containerGroupsProvider) operation(ctx context.Context, w http.ResponseWriter, c *Call) error {
	op, events, err := p.svc.Operation(ctx, c.Name, func(id resourceid.ID) error {
		if !strings.EqualFold(id.SubscriptionID, c.Scope.SubscriptionID) {
			return cg.ErrOperationNotFound.WithMessage("The operation '%s' could not be found.", c.Name)
		}
		ok, err := c.Allowed(ctx, actionCGRead, id)
		if err != nil {
			return err
		}
		if !ok {
			return cg.ErrOperationNotFound.WithMessage("The operation '%s' could not be found.", c.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	out := arm.AsyncOperation{ID: op.Group.String(), Name: op.ID, Status: op.Status, StartTime: op.StartTime,
		Properties: &arm.AsyncOperationProperties{Events: eventsWire(events)}}
	if !op.EndTime.IsZero() {
		end := op.EndTime
		out.EndTime = &end
	}
	if op.Status == cg.OpFailed {
		out.Error = &arm.ErrorDetail{Code: op.ErrorCode, Message: op.ErrorMessage}
	}
	if op.EndTime.IsZero() {
		// azure-core's ARM poller waits Retry-After of the latest status
		// response, or 30 seconds without one; provisioning here takes
		// about a second.
		w.Header().Set("Retry-After", "1")
	}
	server.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (p containerGroupsProvider) usages(ctx context.Context, w http.ResponseWriter, c *Call) error {
	location := strings.ToLower(c.Names[0])
	vs, err := p.svc.List(ctx, c.Scope.SubscriptionID, "")
	if err != nil {
		return err
	}
	var groups int
	var cores float64
	for _, v := range vs {
		if v.Location != location {
			continue
		}
		groups++
		for _, ct := range v.Spec.Containers {
			if ct.Requests != nil {
				cores += ct.Requests.CPU
			}
		}
	}
	usage := func(value, localized string, current, limit int) arm.Usage {
		return arm.Usage{
			ID:   fmt.Sprintf("/subscriptions/%s/providers/%s/locations/%s/usages/%s", c.Scope.SubscriptionID, aciNamespace, location, value),
			Unit: "Count", CurrentValue: current, Limit: limit, Name: arm.UsageName{Value: value, LocalizedValue: localized},
		}
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Usage]{Value: []arm.Usage{
		usage("ContainerGroups", "Container Groups", groups, 100),
		usage("StandardCores", "Standard Cores", int(cores+0.999), 100),
	}})
	return nil
}

func (p containerGroupsProvider) capabilities(_ context.Context, w http.ResponseWriter, c *Call) error {
	location := strings.ToLower(c.Names[0])
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Capability]{Value: []arm.Capability{{
		ResourceType: "containerGroups", OSType: "Linux", Location: location, IPAddressType: "Public", GPU: "None",
		Capabilities: arm.CapabilityCapabilities{MaxMemoryInGB: cg.MaxGroupMemory, MaxCPU: cg.MaxGroupCPU},
	}}})
	return nil
}

// cachedImages lists no images: Cerulean keeps no pre-pulled base images.
func (p containerGroupsProvider) cachedImages(_ context.Context, w http.ResponseWriter, _ *Call) error {
	server.WriteJSON(w, http.StatusOK, arm.List[arm.CachedImage]{Value: []arm.CachedImage{}})
	return nil
}

func (p containerGroupsProvider) operations(_ context.Context, w http.ResponseWriter, _ *Call) error {
	op := func(name, resource, operation, description string) arm.Operation {
		return arm.Operation{Name: name, Origin: "User", Display: arm.OperationDisplay{
			Provider: "Microsoft Container Instance", Resource: resource, Operation: operation, Description: description}}
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Operation]{Value: []arm.Operation{
		op(actionCGRead, "Container Group", "Get Container Group", "Get all container groups."),
		op(actionCGWrite, "Container Group", "Create or Update Container Group", "Create or update a specific container group."),
		op(actionCGDelete, "Container Group", "Delete Container Group", "Delete the specific container group."),
		op(actionCGStart, "Container Group", "Start Container Group", "Starts a specific container group."),
		op(actionCGStop, "Container Group", "Stop Container Group", "Stops a specific container group."),
		op(actionCGRestart, "Container Group", "Restart Container Group", "Restarts a specific container group."),
		op(actionLogsRead, "Container", "Get Container Logs", "Get the log for a specific container."),
		op(actionExec, "Container", "Exec Container", "Exec into a specific container."),
		op(actionAttach, "Container", "Attach Container", "Attach to the output stream of a container."),
		op(actionLocationRead, "Location", "Get Location", "Get usages, capabilities and cached images of a location."),
	}})
	return nil
}

// ---- wire conversion

// specFromWire converts a PUT body into a spec, refusing what Cerulean
// cannot honour rather than silently ignoring it.
func specFromWire(body arm.ContainerGroup, group string) (cg.Spec, error) {
	props := body.Properties
	unsupported := func(what string) error {
		return cg.ErrUnsupportedFeature.WithMessage("The container group '%s' asks for %s, which Cerulean does not support yet.", group, what).WithTarget("properties")
	}
	switch {
	case body.Identity != nil && !strings.EqualFold(body.Identity.Type, "None") && body.Identity.Type != "":
		return cg.Spec{}, unsupported("a managed identity")
	case len(body.Zones) > 0:
		return cg.Spec{}, unsupported("availability zones")
	case len(props.SubnetIDs) > 0:
		return cg.Spec{}, unsupported("a virtual network (subnetIds)")
	case len(props.DNSConfig) > 0 && string(props.DNSConfig) != "null":
		return cg.Spec{}, unsupported("a DNS configuration (dnsConfig)")
	case len(props.Diagnostics) > 0 && string(props.Diagnostics) != "null":
		return cg.Spec{}, unsupported("Log Analytics diagnostics")
	case len(props.EncryptionProperties) > 0 && string(props.EncryptionProperties) != "null":
		return cg.Spec{}, unsupported("customer-managed encryption")
	case len(props.Extensions) > 0 && string(props.Extensions) != "null" && string(props.Extensions) != "[]":
		return cg.Spec{}, unsupported("extensions")
	case len(props.ConfidentialComputeProperties) > 0 && string(props.ConfidentialComputeProperties) != "null":
		return cg.Spec{}, unsupported("confidential computing")
	case props.Priority != "" && !strings.EqualFold(props.Priority, "Regular"):
		return cg.Spec{}, unsupported("Spot priority")
	}
	spec := cg.Spec{OSType: props.OSType, RestartPolicy: cg.RestartPolicy(props.RestartPolicy), SKU: props.SKU}
	for i, c := range props.Containers {
		ct, err := containerFromWire(c.Name, c.Properties.Image, c.Properties.Command, c.Properties.EnvironmentVariables,
			c.Properties.VolumeMounts, c.Properties.SecurityContext, group, fmt.Sprintf("properties.containers[%d]", i))
		if err != nil {
			return cg.Spec{}, err
		}
		if len(c.Properties.LivenessProbe) > 0 && string(c.Properties.LivenessProbe) != "null" ||
			len(c.Properties.ReadinessProbe) > 0 && string(c.Properties.ReadinessProbe) != "null" {
			return cg.Spec{}, unsupported("liveness or readiness probes")
		}
		for _, port := range c.Properties.Ports {
			ct.Ports = append(ct.Ports, cg.Port{Port: port.Port, Protocol: port.Protocol})
		}
		if r := c.Properties.Resources; r != nil {
			if r.Requests != nil {
				if len(r.Requests.GPU) > 0 && string(r.Requests.GPU) != "null" {
					return cg.Spec{}, unsupported("GPUs")
				}
				ct.Requests = &cg.Resources{CPU: deref(r.Requests.CPU), MemoryGB: deref(r.Requests.MemoryInGB)}
			}
			if r.Limits != nil {
				if len(r.Limits.GPU) > 0 && string(r.Limits.GPU) != "null" {
					return cg.Spec{}, unsupported("GPUs")
				}
				ct.Limits = &cg.Resources{CPU: deref(r.Limits.CPU), MemoryGB: deref(r.Limits.MemoryInGB)}
			}
		}
		spec.Containers = append(spec.Containers, ct)
	}
	for i, c := range props.InitContainers {
		ct, err := containerFromWire(c.Name, c.Properties.Image, c.Properties.Command, c.Properties.EnvironmentVariables,
			c.Properties.VolumeMounts, c.Properties.SecurityContext, group, fmt.Sprintf("properties.initContainers[%d]", i))
		if err != nil {
			return cg.Spec{}, err
		}
		spec.InitContainers = append(spec.InitContainers, ct)
	}
	for i, rc := range props.ImageRegistryCredentials {
		if rc.Server == "" {
			return cg.Spec{}, server.ErrInvalidJSON.WithMessage("The request content was invalid and could not be deserialized: 'Required property 'server' not found in JSON. Path 'properties.imageRegistryCredentials[%d]'.'.", i).WithTarget("properties.imageRegistryCredentials")
		}
		if rc.Identity != "" || rc.IdentityURL != "" {
			return cg.Spec{}, unsupported("a managed identity registry credential")
		}
		cred := cg.Credential{Server: rc.Server, Username: rc.Username}
		if rc.Password != nil {
			cred.Password = *rc.Password
		}
		spec.Credentials = append(spec.Credentials, cred)
	}
	if ip := props.IPAddress; ip != nil {
		if ip.AutoGeneratedDomainNameLabelScope != "" && !strings.EqualFold(ip.AutoGeneratedDomainNameLabelScope, "Unsecure") {
			return cg.Spec{}, unsupported("an auto-generated DNS name label scope")
		}
		addr := &cg.IPAddress{Type: ip.Type, DNSNameLabel: ip.DNSNameLabel}
		for _, port := range ip.Ports {
			addr.Ports = append(addr.Ports, cg.Port{Port: port.Port, Protocol: port.Protocol})
		}
		spec.IPAddress = addr
	}
	for _, v := range props.Volumes {
		vs := cg.VolumeSpec{Name: v.Name, Secret: v.Secret}
		switch {
		case len(v.AzureFile) > 0 && string(v.AzureFile) != "null":
			return cg.Spec{}, unsupported(fmt.Sprintf("the Azure Files volume '%s'", v.Name))
		case len(v.GitRepo) > 0 && string(v.GitRepo) != "null":
			return cg.Spec{}, unsupported(fmt.Sprintf("the gitRepo volume '%s'", v.Name))
		case len(v.EmptyDir) > 0 && string(v.EmptyDir) != "null":
			vs.EmptyDir = true
		}
		spec.Volumes = append(spec.Volumes, vs)
	}
	return spec, nil
}

func containerFromWire(name, image string, command []string, env []arm.EnvironmentVariable, mounts []arm.VolumeMount,
	sc *arm.SecurityContext, group, path string) (cg.Container, error) {
	if sc != nil && (sc.Privileged != nil && *sc.Privileged || len(sc.Capabilities) > 0 && string(sc.Capabilities) != "null" ||
		sc.RunAsUser != nil || sc.RunAsGroup != nil || sc.SeccompProfile != "" ||
		sc.AllowPrivilegeEscalation != nil && *sc.AllowPrivilegeEscalation) {
		return cg.Container{}, cg.ErrUnsupportedFeature.WithMessage("The container '%s' in container group '%s' asks for a security context, which Cerulean does not support yet: containers run with the default hardened profile.", name, group).WithTarget(path)
	}
	ct := cg.Container{Name: name, Image: image, Command: command}
	for _, e := range env {
		v := cg.Env{Name: e.Name}
		switch {
		case e.SecureValue != nil:
			v.Value, v.Secure = *e.SecureValue, true
		case e.Value != nil:
			v.Value = *e.Value
		}
		ct.Env = append(ct.Env, v)
	}
	for _, m := range mounts {
		ct.Mounts = append(ct.Mounts, cg.Mount{Volume: m.Name, Path: m.MountPath, ReadOnly: m.ReadOnly != nil && *m.ReadOnly})
	}
	return ct, nil
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// containerGroupWire is a group as ARM returns it: secrets stripped, and with the
// instance view only when full (GET, PUT, DELETE; lists have none).
func containerGroupWire(v cg.View, full bool) arm.ContainerGroup {
	spec := v.Spec
	out := arm.ContainerGroup{
		ID: v.ID.String(), Name: v.Name, Type: cg.ResourceType, Location: v.Location, Tags: v.Tags,
		Properties: arm.ContainerGroupProperties{
			ProvisioningState: v.ProvisioningState, SKU: spec.SKU, RestartPolicy: string(spec.RestartPolicy), OSType: spec.OSType,
			Containers: []arm.Container{}, InitContainers: []arm.InitContainer{},
		},
	}
	if out.Tags == nil {
		out.Tags = map[string]string{}
	}
	for _, c := range spec.Containers {
		props := arm.ContainerProperties{
			Image: c.Image, Command: c.Command, Ports: []arm.ContainerPort{}, EnvironmentVariables: envWire(c.Env),
			VolumeMounts: mountsWire(c.Mounts),
		}
		for _, p := range c.Ports {
			props.Ports = append(props.Ports, arm.ContainerPort{Protocol: p.Protocol, Port: p.Port})
		}
		if c.Requests != nil {
			props.Resources = &arm.ResourceRequirements{Requests: resourcesWire(*c.Requests)}
			if c.Limits != nil {
				props.Resources.Limits = resourcesWire(*c.Limits)
			}
		}
		if full {
			props.InstanceView = containerViewWire(v, c.Name)
		}
		out.Properties.Containers = append(out.Properties.Containers, arm.Container{Name: c.Name, Properties: props})
	}
	for _, c := range spec.InitContainers {
		props := arm.InitContainerProperties{Image: c.Image, Command: c.Command, EnvironmentVariables: envWire(c.Env), VolumeMounts: mountsWire(c.Mounts)}
		if full {
			props.InstanceView = containerViewWire(v, c.Name)
		}
		out.Properties.InitContainers = append(out.Properties.InitContainers, arm.InitContainer{Name: c.Name, Properties: props})
	}
	for _, rc := range spec.Credentials {
		out.Properties.ImageRegistryCredentials = append(out.Properties.ImageRegistryCredentials, arm.ImageRegistryCredential{Server: rc.Server, Username: rc.Username})
	}
	if ip := spec.IPAddress; ip != nil {
		addr := &arm.IPAddress{Type: ip.Type, DNSNameLabel: ip.DNSNameLabel, FQDN: v.FQDN, Ports: []arm.ContainerPort{}}
		if v.IP.IsValid() && v.ProvisioningState != cg.StatePending {
			addr.IP = v.IP.String()
		}
		for _, p := range ip.Ports {
			addr.Ports = append(addr.Ports, arm.ContainerPort{Protocol: p.Protocol, Port: p.Port})
		}
		out.Properties.IPAddress = addr
	}
	for _, vol := range spec.Volumes {
		wv := arm.Volume{Name: vol.Name}
		if vol.EmptyDir {
			wv.EmptyDir = json.RawMessage(`{}`)
		}
		if vol.Secret != nil {
			wv.Secret = map[string]string{} // values are never returned
		}
		out.Properties.Volumes = append(out.Properties.Volumes, wv)
	}
	if full {
		out.Properties.InstanceView = &arm.GroupInstanceView{Events: []arm.ContainerEvent{}, State: v.State}
	}
	return out
}

func envWire(env []cg.Env) []arm.EnvironmentVariable {
	out := []arm.EnvironmentVariable{}
	for _, e := range env {
		w := arm.EnvironmentVariable{Name: e.Name}
		if !e.Secure {
			value := e.Value
			w.Value = &value
		}
		out = append(out, w)
	}
	return out
}

func mountsWire(ms []cg.Mount) []arm.VolumeMount {
	var out []arm.VolumeMount
	for _, m := range ms {
		ro := m.ReadOnly
		out = append(out, arm.VolumeMount{Name: m.Volume, MountPath: m.Path, ReadOnly: &ro})
	}
	return out
}

func resourcesWire(r cg.Resources) *arm.ResourceValues {
	cpu, mem := r.CPU, r.MemoryGB
	out := &arm.ResourceValues{}
	if cpu != 0 {
		out.CPU = &cpu
	}
	if mem != 0 {
		out.MemoryInGB = &mem
	}
	return out
}

func containerViewWire(v cg.View, name string) *arm.ContainerInstanceView {
	st, ok := v.ContainerStatus(name)
	events := eventsWire(v.Events(name))
	if !ok && len(events) == 0 {
		return nil
	}
	out := &arm.ContainerInstanceView{Events: events}
	if ok {
		out.RestartCount = st.RestartCount
		out.CurrentState = stateWire(st.Current)
		if st.Previous != nil {
			out.PreviousState = stateWire(*st.Previous)
		}
	} else {
		out.CurrentState = &arm.ContainerState{State: "Waiting", DetailStatus: ""}
	}
	return out
}

func stateWire(s cg.ContainerState) *arm.ContainerState {
	out := &arm.ContainerState{State: s.State, DetailStatus: s.DetailStatus}
	if !s.StartTime.IsZero() {
		t := s.StartTime.UTC()
		out.StartTime = &t
	}
	if s.State == "Terminated" {
		code := s.ExitCode
		out.ExitCode = &code
		if !s.FinishTime.IsZero() {
			t := s.FinishTime.UTC()
			out.FinishTime = &t
		}
	}
	return out
}

func eventsWire(evs []cg.Event) []arm.ContainerEvent {
	out := []arm.ContainerEvent{}
	for _, e := range evs {
		out = append(out, arm.ContainerEvent{
			Count: e.Count, FirstTimestamp: e.First.UTC().Truncate(time.Second), LastTimestamp: e.Last.UTC().Truncate(time.Second),
			Name: e.Name, Message: e.Message, Type: e.Type,
		})
	}
	return out
}
