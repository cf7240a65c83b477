package client

// Microsoft.ContainerInstance/containerGroups: create (a long-running PUT),
// read, list, tags, delete, start/stop/restart, container logs and exec,
// and the exec websocket session (reference/aci.md §3).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// APIVersionContainerInstance is the Microsoft.ContainerInstance
// api-version the client sends (armcontainerinstance/v2's).
const APIVersionContainerInstance = "2023-05-01"

// ContainerGroupResourceType is the ARM type of container groups.
const ContainerGroupResourceType = "Microsoft.ContainerInstance/containerGroups"

func containerGroupPath(sub, group, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + group + "/providers/" + ContainerGroupResourceType + "/" + name
}

func (a *ARM) containerGroupURL(sub, group, name, action string, kv ...string) string {
	p := containerGroupPath(sub, group, name)
	if action != "" {
		p += "/" + action
	}
	return a.url(p, APIVersionContainerInstance, kv...)
}

// PutContainerGroupRaw is PUT …/containerGroups/{name} with any body at
// any api-version (az container create --file sends the YAML as it is,
// with the YAML's apiVersion). Unless noWait is set it follows the
// long-running operation and returns the group as a final GET at the same
// api-version reads it; with noWait it returns nil.
func (a *ARM) PutContainerGroupRaw(ctx context.Context, sub, group, name, apiVersion string, body any, noWait bool) (json.RawMessage, error) {
	if apiVersion == "" {
		apiVersion = APIVersionContainerInstance
	}
	u := a.url(containerGroupPath(sub, group, name), apiVersion)
	resp, err := a.send(ctx, http.MethodPut, u, body, http.StatusOK, http.StatusCreated, http.StatusAccepted)
	if err != nil {
		return nil, err
	}
	if noWait {
		return nil, nil
	}
	final, err := a.waitPut(ctx, u, resp)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(final.body), nil
}

// CreateContainerGroup is PutContainerGroupRaw with the typed model at
// APIVersionContainerInstance. With noWait it returns nil.
func (a *ARM) CreateContainerGroup(ctx context.Context, sub, group, name string, body arm.ContainerGroup, noWait bool) (*arm.ContainerGroup, error) {
	raw, err := a.PutContainerGroupRaw(ctx, sub, group, name, APIVersionContainerInstance, body, noWait)
	if err != nil || raw == nil {
		return nil, err
	}
	var out arm.ContainerGroup
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("client: decoding container group: %w", err)
	}
	return &out, nil
}

// waitPut follows a PUT the way azure-core's ARM poller does: the
// Azure-AsyncOperation document if there is one, else a 202's Location,
// else the resource's own provisioningState; then it GETs the resource.
func (a *ARM) waitPut(ctx context.Context, resourceURL string, first *response) (*response, error) {
	switch {
	case first.header.Get("Azure-AsyncOperation") != "":
		if err := a.pollAsyncOperation(ctx, first.header.Get("Azure-AsyncOperation"), first.header); err != nil {
			return nil, err
		}
	case first.status == http.StatusAccepted:
		if err := a.pollDelete(ctx, first); err != nil { // Location polling: 202 while running
			return nil, err
		}
	default:
		resp, hdr := first, first.header
		for {
			switch state := provisioningState(resp.body); strings.ToLower(state) {
			case "", "succeeded":
				return resp, nil
			case "failed", "canceled", "cancelled":
				return nil, operationFailed(resp, resourceURL, state)
			}
			if err := a.c.sleep(ctx, hdr); err != nil {
				return nil, err
			}
			var err error
			if resp, err = a.send(ctx, http.MethodGet, resourceURL, nil, http.StatusOK); err != nil {
				return nil, err
			}
			hdr = resp.header
		}
	}
	return a.send(ctx, http.MethodGet, resourceURL, nil, http.StatusOK)
}

func provisioningState(body []byte) string {
	var v struct {
		Properties struct {
			ProvisioningState string `json:"provisioningState"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Properties.ProvisioningState
}

// operationFailed is azure-core's OperationFailed for a resource whose
// provisioningState ended in failure.
func operationFailed(resp *response, u, state string) error {
	re := &ResponseError{Surface: SurfaceARM, StatusCode: resp.status, Method: http.MethodGet, URL: u, Body: resp.body,
		Code: state, Message: "Operation failed or canceled"}
	return &errdefs.Error{Kind: errdefs.Internal, Reason: re.Code, Message: re.Message, Cause: re}
}

// GetContainerGroup is GET …/containerGroups/{name} (with instance views).
func (a *ARM) GetContainerGroup(ctx context.Context, sub, group, name string) (arm.ContainerGroup, error) {
	return armGet[arm.ContainerGroup](ctx, a, a.containerGroupURL(sub, group, name, ""))
}

// GetContainerGroupRaw is GET …/containerGroups/{name} at apiVersion,
// undecoded (az container export reads it as a generic resource).
func (a *ARM) GetContainerGroupRaw(ctx context.Context, sub, group, name, apiVersion string) (json.RawMessage, error) {
	resp, err := a.send(ctx, http.MethodGet, a.url(containerGroupPath(sub, group, name), apiVersion), nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(resp.body), nil
}

// ListContainerGroups lists a resource group's container groups, or the
// subscription's when group is empty (no instance views in either).
func (a *ARM) ListContainerGroups(ctx context.Context, sub, group string) ([]arm.ContainerGroup, error) {
	p := "/subscriptions/" + sub
	if group != "" {
		p += "/resourceGroups/" + group
	}
	return armList[arm.ContainerGroup](ctx, a, a.url(p+"/providers/"+ContainerGroupResourceType, APIVersionContainerInstance))
}

// UpdateContainerGroupTags is PATCH …/containerGroups/{name} {"tags": …}.
func (a *ARM) UpdateContainerGroupTags(ctx context.Context, sub, group, name string, tags map[string]string) (arm.ContainerGroup, error) {
	var out arm.ContainerGroup
	if tags == nil {
		tags = map[string]string{}
	}
	resp, err := a.send(ctx, http.MethodPatch, a.containerGroupURL(sub, group, name, ""), arm.ContainerGroupPatch{Tags: tags}, http.StatusOK)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// DeleteContainerGroup is DELETE …/containerGroups/{name}. It returns the
// deleted group when the server answers 200 with it, nil for 204 (there
// was none) or after following a 202.
func (a *ARM) DeleteContainerGroup(ctx context.Context, sub, group, name string) (*arm.ContainerGroup, error) {
	resp, err := a.send(ctx, http.MethodDelete, a.containerGroupURL(sub, group, name, ""), nil,
		http.StatusOK, http.StatusAccepted, http.StatusNoContent)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.status == http.StatusAccepted:
		return nil, a.pollDelete(ctx, resp)
	case resp.status == http.StatusNoContent || len(resp.body) == 0:
		return nil, nil
	}
	var out arm.ContainerGroup
	if err := decodeJSON(resp, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StartContainerGroup is POST …/start: 202 with an operation to follow
// (unless noWait), or 204 when there is nothing to do.
func (a *ARM) StartContainerGroup(ctx context.Context, sub, group, name string, noWait bool) error {
	return a.containerGroupAction(ctx, sub, group, name, "start", noWait, http.StatusAccepted, http.StatusNoContent)
}

// RestartContainerGroup is POST …/restart: 204 (ACI restarts in place
// before answering); a 202 is followed too.
func (a *ARM) RestartContainerGroup(ctx context.Context, sub, group, name string, noWait bool) error {
	return a.containerGroupAction(ctx, sub, group, name, "restart", noWait, http.StatusNoContent, http.StatusAccepted)
}

// StopContainerGroup is POST …/stop: synchronous, 204.
func (a *ARM) StopContainerGroup(ctx context.Context, sub, group, name string) error {
	return a.containerGroupAction(ctx, sub, group, name, "stop", true, http.StatusNoContent, http.StatusOK)
}

func (a *ARM) containerGroupAction(ctx context.Context, sub, group, name, action string, noWait bool, ok ...int) error {
	resp, err := a.send(ctx, http.MethodPost, a.containerGroupURL(sub, group, name, action), nil, ok...)
	if err != nil || noWait || resp.status != http.StatusAccepted {
		return err
	}
	return a.pollDelete(ctx, resp) // Azure-AsyncOperation, else Location
}

// ContainerLogs is GET …/containers/{container}/logs. tail <= 0 asks for
// everything.
func (a *ARM) ContainerLogs(ctx context.Context, sub, group, name, container string, tail int, timestamps bool) (arm.Logs, error) {
	var kv []string
	if tail > 0 {
		kv = append(kv, "tail", strconv.Itoa(tail))
	}
	if timestamps {
		kv = append(kv, "timestamps", "true")
	}
	return armGet[arm.Logs](ctx, a, a.containerGroupURL(sub, group, name, "containers/"+container+"/logs", kv...))
}

// ExecContainer is POST …/containers/{container}/exec: a websocket URI and
// its one-time password.
func (a *ARM) ExecContainer(ctx context.Context, sub, group, name, container string, req arm.ContainerExecRequest) (arm.ContainerExecResponse, error) {
	var out arm.ContainerExecResponse
	resp, err := a.send(ctx, http.MethodPost, a.containerGroupURL(sub, group, name, "containers/"+container+"/exec"), req, http.StatusOK)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// ---- exec websocket ------------------------------------------------------------

// ExecSession runs ACI's exec protocol on uri: the password as the first
// text frame, then stdin as binary frames while everything the server
// sends (text or binary) is written to stdout, until the server closes the
// socket (the process exited) or ctx ends. The websocket is dialled with
// the client's TLS settings and no credentials.
func (c *Client) ExecSession(ctx context.Context, uri, password string, stdin io.Reader, stdout io.Writer) error {
	d := &websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	if tr, ok := c.hc.Transport.(*http.Transport); ok {
		if tr.TLSClientConfig != nil {
			d.TLSClientConfig = tr.TLSClientConfig.Clone()
		}
		d.NetDialContext = tr.DialContext
	}
	conn, resp, err := d.DialContext(ctx, uri, http.Header{"User-Agent": {c.userAgent}})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return fmt.Errorf("client: exec websocket %s: handshake answered %s", redactURL(uri), resp.Status)
		}
		return &TransportError{Method: http.MethodGet, URL: redactURL(uri), Err: err}
	}
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var wmu sync.Mutex
	write := func(kind int, data []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return conn.WriteMessage(kind, data)
	}
	if err := write(websocket.TextMessage, []byte(password)); err != nil {
		return fmt.Errorf("client: exec websocket: sending the password: %w", err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := stdin.Read(buf)
			if n > 0 && write(websocket.BinaryMessage, buf[:n]) != nil {
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ce *websocket.CloseError
			if errors.As(err, &ce) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil // the server ends the session by closing
			}
			return fmt.Errorf("client: exec websocket: %w", err)
		}
		if _, err := stdout.Write(data); err != nil {
			return err
		}
	}
}
