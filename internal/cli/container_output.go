package cli

// The az container output: a container group as az prints it (the
// azure-mgmt-containerinstance ContainerGroup model flattened through az's
// todict: no "properties" wrapper, camelCase Python attribute names in
// attribute order, null for every unset attribute, resourceGroup added)
// and the table transformer of container/_format.py.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/cli/output"
)

// sdkFloat is a float attribute: Python prints 1.0, not 1.
type sdkFloat float64

func (f sdkFloat) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}

func sdkFloatPtr(f *float64) *sdkFloat {
	if f == nil {
		return nil
	}
	v := sdkFloat(*f)
	return &v
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// containerGroupOut is ContainerGroup(Resource, ContainerGroupProperties)
// in __dict__ order.
type containerGroupOut struct {
	Identity                      any                   `json:"identity"`
	ProvisioningState             *string               `json:"provisioningState"`
	Containers                    []containerOut        `json:"containers"`
	ImageRegistryCredentials      []registryCredOut     `json:"imageRegistryCredentials"`
	RestartPolicy                 *string               `json:"restartPolicy"`
	IPAddress                     *ipAddressOut         `json:"ipAddress"`
	OSType                        *string               `json:"osType"`
	Volumes                       []any                 `json:"volumes"`
	InstanceView                  *groupInstanceViewOut `json:"instanceView"`
	Diagnostics                   any                   `json:"diagnostics"`
	SubnetIDs                     []any                 `json:"subnetIds"`
	DNSConfig                     any                   `json:"dnsConfig"`
	SKU                           *string               `json:"sku"`
	EncryptionProperties          any                   `json:"encryptionProperties"`
	InitContainers                []initContainerOut    `json:"initContainers"`
	Extensions                    any                   `json:"extensions"`
	ConfidentialComputeProperties any                   `json:"confidentialComputeProperties"`
	Priority                      *string               `json:"priority"`
	ID                            *string               `json:"id"`
	Name                          *string               `json:"name"`
	Type                          *string               `json:"type"`
	Location                      *string               `json:"location"`
	Tags                          map[string]string     `json:"tags"`
	Zones                         []string              `json:"zones"`
	ResourceGroup                 *string               `json:"resourceGroup,omitempty"`
}

// containerOut is Container (its properties flattened).
type containerOut struct {
	Name                 string                 `json:"name"`
	Image                string                 `json:"image"`
	Command              []string               `json:"command"`
	Ports                []portOut              `json:"ports"`
	EnvironmentVariables []envVarOut            `json:"environmentVariables"`
	InstanceView         *containerInstanceOut  `json:"instanceView"`
	Resources            *resourceRequirementsO `json:"resources"`
	VolumeMounts         []volumeMountOut       `json:"volumeMounts"`
	LivenessProbe        any                    `json:"livenessProbe"`
	ReadinessProbe       any                    `json:"readinessProbe"`
}

// initContainerOut is InitContainerDefinition.
type initContainerOut struct {
	Name                 string                `json:"name"`
	Image                *string               `json:"image"`
	Command              []string              `json:"command"`
	EnvironmentVariables []envVarOut           `json:"environmentVariables"`
	InstanceView         *containerInstanceOut `json:"instanceView"`
	VolumeMounts         []volumeMountOut      `json:"volumeMounts"`
}

type portOut struct {
	Protocol *string `json:"protocol"`
	Port     int     `json:"port"`
}

type envVarOut struct {
	Name        string  `json:"name"`
	Value       *string `json:"value"`
	SecureValue *string `json:"secureValue"`
}

type containerInstanceOut struct {
	RestartCount  *int               `json:"restartCount"`
	CurrentState  *containerStateOut `json:"currentState"`
	PreviousState *containerStateOut `json:"previousState"`
	Events        []eventOut         `json:"events"`
}

type containerStateOut struct {
	State        *string `json:"state"`
	StartTime    *string `json:"startTime"`
	ExitCode     *int    `json:"exitCode"`
	FinishTime   *string `json:"finishTime"`
	DetailStatus *string `json:"detailStatus"`
}

type eventOut struct {
	Count          int     `json:"count"`
	FirstTimestamp *string `json:"firstTimestamp"`
	LastTimestamp  *string `json:"lastTimestamp"`
	Name           *string `json:"name"`
	Message        *string `json:"message"`
	Type           *string `json:"type"`
}

type resourceRequirementsO struct {
	Requests *resourceValuesOut `json:"requests"`
	Limits   *resourceValuesOut `json:"limits"`
}

// resourceValuesOut keys memory as the Python attribute memory_in_gb
// camel-cases.
type resourceValuesOut struct {
	MemoryInGb *sdkFloat `json:"memoryInGb"`
	CPU        *sdkFloat `json:"cpu"`
	GPU        any       `json:"gpu"`
}

type volumeMountOut struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  *bool  `json:"readOnly"`
}

type registryCredOut struct {
	Server      string  `json:"server"`
	Username    *string `json:"username"`
	Password    *string `json:"password"`
	Identity    *string `json:"identity"`
	IdentityURL *string `json:"identityUrl"`
}

type ipAddressOut struct {
	Ports                             []portOut `json:"ports"`
	Type                              string    `json:"type"`
	IP                                *string   `json:"ip"`
	DNSNameLabel                      *string   `json:"dnsNameLabel"`
	AutoGeneratedDomainNameLabelScope *string   `json:"autoGeneratedDomainNameLabelScope"`
	FQDN                              *string   `json:"fqdn"`
}

type groupInstanceViewOut struct {
	Events []eventOut `json:"events"`
	State  *string    `json:"state"`
}

// containerGroupOutput flattens a wire container group the way az prints it.
func containerGroupOutput(g arm.ContainerGroup) containerGroupOut {
	p := g.Properties
	out := containerGroupOut{
		Identity:          identityModel(g.Identity),
		ProvisioningState: strOrNil(p.ProvisioningState),
		RestartPolicy:     strOrNil(p.RestartPolicy),
		OSType:            strOrNil(p.OSType),
		Diagnostics: sdkObject(p.Diagnostics, []string{"logAnalytics"}, map[string]func(any) any{
			"logAnalytics": func(v any) any {
				return sdkObjectOf(v, []string{"workspaceId", "workspaceKey", "logType", "metadata", "workspaceResourceId"}, nil)
			},
		}),
		DNSConfig:            sdkObject(p.DNSConfig, []string{"nameServers", "searchDomains", "options"}, nil),
		SKU:                  strOrNil(p.SKU),
		EncryptionProperties: sdkObject(p.EncryptionProperties, []string{"vaultBaseUrl", "keyName", "keyVersion", "identity"}, nil),
		Extensions: sdkList(p.Extensions, func(v any) any {
			m, _ := v.(map[string]any)
			flat := map[string]any{}
			if props, ok := m["properties"].(map[string]any); ok {
				for k, x := range props {
					flat[k] = x
				}
			}
			if m != nil {
				flat["name"] = m["name"]
			}
			return sdkObjectOf(flat, []string{"name", "extensionType", "version", "settings", "protectedSettings"}, nil)
		}),
		ConfidentialComputeProperties: sdkObject(p.ConfidentialComputeProperties, []string{"ccePolicy"}, nil),
		Priority:                      strOrNil(p.Priority),
		ID:                            strOrNil(g.ID),
		Name:                          strOrNil(g.Name),
		Type:                          strOrNil(g.Type),
		Location:                      strOrNil(g.Location),
		Tags:                          g.Tags,
		Zones:                         g.Zones,
		ResourceGroup:                 resourceGroupOfID(g.ID),
	}
	if p.Containers != nil {
		out.Containers = []containerOut{}
	}
	for _, c := range p.Containers {
		cp := c.Properties
		co := containerOut{
			Name: c.Name, Image: cp.Image, Command: cp.Command,
			Ports: portsOut(cp.Ports), EnvironmentVariables: envVarsOut(cp.EnvironmentVariables),
			InstanceView: containerInstanceOutput(cp.InstanceView), VolumeMounts: volumeMountsOut(cp.VolumeMounts),
			LivenessProbe: probeModel(cp.LivenessProbe), ReadinessProbe: probeModel(cp.ReadinessProbe),
		}
		if r := cp.Resources; r != nil {
			co.Resources = &resourceRequirementsO{Requests: resourceValuesOutput(r.Requests), Limits: resourceValuesOutput(r.Limits)}
		}
		out.Containers = append(out.Containers, co)
	}
	for _, c := range p.ImageRegistryCredentials {
		out.ImageRegistryCredentials = append(out.ImageRegistryCredentials, registryCredOut{
			Server: c.Server, Username: strOrNil(c.Username), Identity: strOrNil(c.Identity), IdentityURL: strOrNil(c.IdentityURL)})
	}
	if ip := p.IPAddress; ip != nil {
		out.IPAddress = &ipAddressOut{
			Ports: portsOut(ip.Ports), Type: ip.Type, IP: strOrNil(ip.IP), DNSNameLabel: strOrNil(ip.DNSNameLabel),
			AutoGeneratedDomainNameLabelScope: strOrNil(ip.AutoGeneratedDomainNameLabelScope), FQDN: strOrNil(ip.FQDN),
		}
	}
	if p.Volumes != nil {
		out.Volumes = []any{}
	}
	for _, v := range p.Volumes {
		var secret any
		if v.Secret != nil {
			secret = v.Secret
		}
		out.Volumes = append(out.Volumes, output.Row{
			{Key: "name", Value: v.Name},
			{Key: "azureFile", Value: sdkObject(v.AzureFile, []string{"shareName", "readOnly", "storageAccountName", "storageAccountKey"}, nil)},
			{Key: "emptyDir", Value: rawValue(v.EmptyDir)},
			{Key: "secret", Value: secret},
			{Key: "gitRepo", Value: sdkObject(v.GitRepo, []string{"directory", "repository", "revision"}, nil)},
		})
	}
	if iv := p.InstanceView; iv != nil {
		out.InstanceView = &groupInstanceViewOut{Events: eventsOut(iv.Events), State: strOrNil(iv.State)}
	}
	if p.SubnetIDs != nil {
		out.SubnetIDs = []any{}
	}
	for _, s := range p.SubnetIDs {
		out.SubnetIDs = append(out.SubnetIDs, sdkObject(s, []string{"id", "name"}, nil))
	}
	if p.InitContainers != nil {
		out.InitContainers = []initContainerOut{}
	}
	for _, c := range p.InitContainers {
		cp := c.Properties
		out.InitContainers = append(out.InitContainers, initContainerOut{
			Name: c.Name, Image: strOrNil(cp.Image), Command: cp.Command,
			EnvironmentVariables: envVarsOut(cp.EnvironmentVariables), InstanceView: containerInstanceOutput(cp.InstanceView),
			VolumeMounts: volumeMountsOut(cp.VolumeMounts),
		})
	}
	return out
}

func portsOut(ps []arm.ContainerPort) []portOut {
	if ps == nil {
		return nil
	}
	out := []portOut{}
	for _, p := range ps {
		out = append(out, portOut{Protocol: strOrNil(p.Protocol), Port: p.Port})
	}
	return out
}

func envVarsOut(vs []arm.EnvironmentVariable) []envVarOut {
	if vs == nil {
		return nil
	}
	out := []envVarOut{}
	for _, v := range vs {
		out = append(out, envVarOut{Name: v.Name, Value: v.Value, SecureValue: v.SecureValue})
	}
	return out
}

func volumeMountsOut(ms []arm.VolumeMount) []volumeMountOut {
	if ms == nil {
		return nil
	}
	out := []volumeMountOut{}
	for _, m := range ms {
		out = append(out, volumeMountOut{Name: m.Name, MountPath: m.MountPath, ReadOnly: m.ReadOnly})
	}
	return out
}

func resourceValuesOutput(v *arm.ResourceValues) *resourceValuesOut {
	if v == nil {
		return nil
	}
	return &resourceValuesOut{MemoryInGb: sdkFloatPtr(v.MemoryInGB), CPU: sdkFloatPtr(v.CPU),
		GPU: sdkObject(v.GPU, []string{"count", "sku"}, nil)}
}

func containerInstanceOutput(iv *arm.ContainerInstanceView) *containerInstanceOut {
	if iv == nil {
		return nil
	}
	n := iv.RestartCount
	return &containerInstanceOut{RestartCount: &n, CurrentState: containerStateOutput(iv.CurrentState),
		PreviousState: containerStateOutput(iv.PreviousState), Events: eventsOut(iv.Events)}
}

func containerStateOutput(s *arm.ContainerState) *containerStateOut {
	if s == nil {
		return nil
	}
	out := &containerStateOut{State: strOrNil(s.State), ExitCode: s.ExitCode, DetailStatus: &s.DetailStatus}
	if s.StartTime != nil {
		out.StartTime = pyTime(*s.StartTime)
	}
	if s.FinishTime != nil {
		out.FinishTime = pyTime(*s.FinishTime)
	}
	return out
}

func eventsOut(es []arm.ContainerEvent) []eventOut {
	if es == nil {
		return nil
	}
	out := []eventOut{}
	for _, e := range es {
		out = append(out, eventOut{Count: e.Count, FirstTimestamp: pyTime(e.FirstTimestamp), LastTimestamp: pyTime(e.LastTimestamp),
			Name: strOrNil(e.Name), Message: strOrNil(e.Message), Type: strOrNil(e.Type)})
	}
	return out
}

func identityModel(id *arm.ContainerGroupIdentity) any {
	if id == nil {
		return nil
	}
	var uai any
	if id.UserAssignedIdentities != nil {
		m := map[string]any{}
		for k, raw := range id.UserAssignedIdentities {
			m[k] = sdkObject(raw, []string{"principalId", "clientId"}, nil)
			if m[k] == nil {
				m[k] = output.Row{{Key: "principalId"}, {Key: "clientId"}}
			}
		}
		uai = m
	}
	return output.Row{
		{Key: "principalId", Value: strOrNil(id.PrincipalID)},
		{Key: "tenantId", Value: strOrNil(id.TenantID)},
		{Key: "type", Value: strOrNil(id.Type)},
		{Key: "userAssignedIdentities", Value: uai},
	}
}

// probeModel is ContainerProbe.
func probeModel(raw json.RawMessage) any {
	return sdkObject(raw, []string{"exec", "httpGet", "initialDelaySeconds", "periodSeconds", "failureThreshold", "successThreshold", "timeoutSeconds"},
		map[string]func(any) any{
			"exec": func(v any) any { return sdkObjectOf(v, []string{"command"}, nil) },
			"httpGet": func(v any) any {
				return sdkObjectOf(v, []string{"path", "port", "scheme", "httpHeaders"}, map[string]func(any) any{
					"httpHeaders": func(v any) any {
						return sdkListOf(v, func(h any) any { return sdkObjectOf(h, []string{"name", "value"}, nil) })
					},
				})
			},
		})
}

// rawValue decodes an echoed JSON value (numbers kept as written).
func rawValue(raw json.RawMessage) any {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// sdkObject re-keys an echoed wire object as an SDK model prints: every
// attribute in order, null when absent; sub converts nested attributes.
func sdkObject(raw json.RawMessage, attrs []string, sub map[string]func(any) any) any {
	return sdkObjectOf(rawValue(raw), attrs, sub)
}

func sdkObjectOf(v any, attrs []string, sub map[string]func(any) any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	row := make(output.Row, 0, len(attrs))
	for _, a := range attrs {
		val := m[a]
		if f := sub[a]; f != nil && val != nil {
			val = f(val)
		}
		row = append(row, output.Field{Key: a, Value: val})
	}
	return row
}

func sdkList(raw json.RawMessage, item func(any) any) any {
	return sdkListOf(rawValue(raw), item)
}

func sdkListOf(v any, item func(any) any) any {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]any, 0, len(l))
	for _, x := range l {
		out = append(out, item(x))
	}
	return out
}

// pyDatetimeStr is str(datetime) of an SDK timestamp: a space between date
// and time (attach prints events so).
func pyDatetimeStr(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02 15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// ---- table (_format.py) ----------------------------------------------------------

// transformContainerGroups is transform_container_group(_list): one row
// per group.
func transformContainerGroups(result any) any {
	items, ok := result.([]any)
	if !ok {
		items = []any{result}
	}
	rows := make([]output.Row, 0, len(items))
	for _, it := range items {
		g, _ := it.(map[string]any)
		rows = append(rows, output.Row{
			{Key: "Name", Value: g["name"]},
			{Key: "ResourceGroup", Value: g["resourceGroup"]},
			{Key: "Status", Value: cgStatus(g)},
			{Key: "Image", Value: cgImages(g)},
			{Key: "IP:ports", Value: cgIPAddress(g)},
			{Key: "Network", Value: cgNetwork(g)},
			{Key: "CPU/Memory", Value: cgCPUMemory(g)},
			{Key: "OsType", Value: g["osType"]},
			{Key: "Location", Value: g["location"]},
		})
	}
	if !ok {
		return rows[0]
	}
	return rows
}

func cgStatus(g map[string]any) any {
	if iv, ok := g["instanceView"].(map[string]any); ok {
		if s, ok := iv["state"].(string); ok && s != "" {
			return s
		}
	}
	return g["provisioningState"]
}

// cgImages joins the distinct images (a Python set; here in first-seen
// order).
func cgImages(g map[string]any) any {
	cs, _ := g["containers"].([]any)
	if len(cs) == 0 {
		return nil
	}
	var images []string
	seen := map[string]bool{}
	for _, c := range cs {
		m, _ := c.(map[string]any)
		img := fmt.Sprint(m["image"])
		if !seen[img] {
			seen[img] = true
			images = append(images, img)
		}
	}
	return strings.Join(images, ",")
}

func cgIPAddress(g map[string]any) any {
	ip, ok := g["ipAddress"].(map[string]any)
	if !ok {
		return nil
	}
	ports, _ := ip["ports"].([]any)
	ports = append([]any(nil), ports...)
	if ip["type"] == "Private" {
		cs, _ := g["containers"].([]any)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			cp, _ := m["ports"].([]any)
			ports = append(ports, cp...)
		}
	}
	strs := make([]string, 0, len(ports))
	for _, p := range ports {
		m, _ := p.(map[string]any)
		strs = append(strs, fmt.Sprint(m["port"]))
	}
	return fmt.Sprintf("%s:%s", pyStrValue(ip["ip"]), strings.Join(strs, ","))
}

func cgNetwork(g map[string]any) any {
	if ip, ok := g["ipAddress"].(map[string]any); ok {
		return ip["type"]
	}
	return nil
}

// cgCPUMemory is _format_cpu_memory: it returns after the first container
// (an early return in az), so only that one counts.
func cgCPUMemory(g map[string]any) any {
	cs, _ := g["containers"].([]any)
	if len(cs) == 0 {
		return nil
	}
	m, _ := cs[0].(map[string]any)
	var cpu, mem pyNumber
	if res, ok := m["resources"].(map[string]any); ok {
		if req, ok := res["requests"].(map[string]any); ok {
			cpu = cpu.add(req["cpu"])
			mem = mem.add(req["memoryInGb"])
		}
	}
	return fmt.Sprintf("%s core/%s gb", cpu, mem)
}

// pyNumber adds numbers the way Python does: an int stays an int until a
// float joins in.
type pyNumber struct {
	f       float64
	isFloat bool
}

func (n pyNumber) add(v any) pyNumber {
	num, ok := v.(json.Number)
	if !ok {
		return n
	}
	f, err := num.Float64()
	if err != nil {
		return n
	}
	return pyNumber{f: n.f + f, isFloat: n.isFloat || strings.ContainsAny(string(num), ".eE")}
}

func (n pyNumber) String() string {
	if n.isFloat {
		b, _ := sdkFloat(n.f).MarshalJSON()
		return string(b)
	}
	return strconv.FormatFloat(n.f, 'f', -1, 64)
}

// pyStrValue is str() of a decoded JSON scalar (None for null).
func pyStrValue(v any) string {
	if v == nil {
		return "None"
	}
	return fmt.Sprint(v)
}
