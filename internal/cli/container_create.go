package cli

// az container create (container/custom.py create_container, with the
// classic defaults an emulator-side CLI keeps: --os-type Linux, --cpu 1,
// --memory 1.5, --restart-policy Always) and its --file form
// (_create_update_from_file: the YAML as a generic PUT, every other create
// flag ignored).

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/client"
)

// shortRunningImages is _validators.short_running_images.
var shortRunningImages = []string{"alpine", "busybox", "ubuntu", "node", "golang", "centos", "python", "php"}

func containerCreateCommand() *command {
	reg := "Image Registry"
	return &command{
		path:         "container create",
		short:        "Create a container group.",
		subscription: true,
		table:        transformContainerGroups,
		args: []*argDef{
			containerGroupArg(true),
			containerNameArg(false),
			{dest: "image", options: []string{"--image"}, kind: argValue, help: "The container image name."},
			{dest: "location", options: []string{"--location", "-l"}, kind: argValue,
				help: "Location. Values from: `az account list-locations`. You can configure the default location using `az configure --defaults location=<location>`."},
			{dest: "cpu", options: []string{"--cpu"}, kind: argValue,
				help: "The required number of CPU cores of the containers, accurate to one decimal place.  Default: 1."},
			{dest: "memory", options: []string{"--memory"}, kind: argValue,
				help: "The required memory of the containers in GB, accurate to one decimal place.  Default: 1.5."},
			{dest: "os_type", options: []string{"--os-type"}, kind: argValue, choices: []string{"Windows", "Linux"},
				help: "The OS type of the containers.  Default: Linux."},
			{dest: "ip_address", options: []string{"--ip-address"}, kind: argValue, choices: []string{"Public", "Private"},
				help: "The IP address type of the container group."},
			{dest: "ports", options: []string{"--ports"}, kind: argList,
				help: "A list of ports to open. Space-separated list of ports.  Default: [80]."},
			{dest: "protocol", options: []string{"--protocol"}, kind: argValue, choices: []string{"TCP", "UDP"},
				help: "The network protocol to use."},
			{dest: "dns_name_label", options: []string{"--dns-name-label"}, kind: argValue,
				help: "The dns name label for container group with public IP."},
			{dest: "restart_policy", options: []string{"--restart-policy"}, kind: argValue, choices: []string{"Always", "OnFailure", "Never"},
				help: "Restart policy for all containers within the container group.  Default: Always."},
			{dest: "command_line", options: []string{"--command-line"}, kind: argValue,
				help: "The command line to run when the container is started, e.g. '/bin/bash -c myscript.sh'."},
			{dest: "environment_variables", options: []string{"--environment-variables", "-e"}, kind: argList,
				help: "A list of environment variable for the container. Space-separated values in 'key=value' format."},
			{dest: "secure_environment_variables", options: []string{"--secure-environment-variables"}, kind: argList,
				help: "A list of secure environment variable for the container. Space-separated values in 'key=value' format."},
			{dest: "secrets", options: []string{"--secrets"}, kind: argList, help: "Space-separated secrets in 'key=value' format."},
			{dest: "secrets_mount_path", options: []string{"--secrets-mount-path"}, kind: argValue,
				help: "The path within the container where the secrets volume should be mounted. Must not contain colon ':'."},
			{dest: "file", options: []string{"--file", "-f"}, kind: argValue, help: "The path to the input file."},
			{dest: "zone", options: []string{"--zone"}, kind: argValue, help: "The zone to place the container group."},
			{dest: "sku", options: []string{"--sku"}, kind: argValue, help: "The SKU of the container group."},
			{dest: "priority", options: []string{"--priority"}, kind: argValue, help: "The priority of the container group."},
			{dest: "registry_login_server", options: []string{"--registry-login-server"}, kind: argValue, group: reg,
				help: "The container image registry login server."},
			{dest: "registry_username", options: []string{"--registry-username"}, kind: argValue, group: reg,
				help: "The username to log in container image registry server."},
			{dest: "registry_password", options: []string{"--registry-password"}, kind: argValue, group: reg,
				help: "The password to log in container image registry server."},
			containerNoWaitArg(),
		},
		run: runContainerCreate,
	}
}

// createInput is the arguments after argparse's type conversions.
type createInput struct {
	cpu, memory   float64
	ports         []int
	env, secure   []arm.EnvironmentVariable
	secrets       map[string]string
	secretsSorted []string
}

// parseCreateInput does what argparse's type= functions and the
// validators do before create_container runs.
func (i *inv) parseCreateInput() (*createInput, error) {
	in := &createInput{cpu: 1, memory: 1.5, ports: []int{80}}
	for _, f := range []struct {
		dest, opt string
		out       *float64
	}{{"cpu", "--cpu", &in.cpu}, {"memory", "--memory", &in.memory}} {
		if !i.args.has(f.dest) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(i.args.str(f.dest)), 64)
		if err != nil {
			return nil, &usageError{msg: fmt.Sprintf("argument %s: invalid float value: %s", f.opt, pyRepr(i.args.str(f.dest)))}
		}
		*f.out = v
	}
	if i.args.has("ports") {
		in.ports = nil
		for _, p := range i.args.list("ports") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return nil, &usageError{msg: fmt.Sprintf("argument --ports: invalid int value: %s", pyRepr(p))}
			}
			in.ports = append(in.ports, n)
		}
	}
	for _, e := range []struct {
		dest, what string
		secure     bool
		out        *[]arm.EnvironmentVariable
	}{
		{"environment_variables", "environment", false, &in.env},
		{"secure_environment_variables", "secure environment", true, &in.secure},
	} {
		for _, kv := range i.args.list(e.dest) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, errorf("Incorrectly formatted %s settings. Argument values should be in the format a=b c=d", e.what)
			}
			ev := arm.EnvironmentVariable{Name: k}
			if e.secure {
				ev.SecureValue = &v
			} else {
				ev.Value = &v
			}
			*e.out = append(*e.out, ev)
		}
	}
	if i.args.has("secrets") {
		in.secrets = map[string]string{}
		for _, kv := range i.args.list("secrets") {
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, errorf("Secrets need to be specifed in key=value format.")
			}
			if _, dup := in.secrets[k]; !dup {
				in.secretsSorted = append(in.secretsSorted, k)
			}
			in.secrets[k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
	}
	if img := i.args.str("image"); img != "" && !i.args.has("command_line") {
		base, _, _ := strings.Cut(img, ":")
		for _, s := range shortRunningImages {
			if base == s {
				i.app.log.warnf(logContainer, `Image "%s" has no long running process. The "--command-line" argument must be used to start a long running process inside the container for the container group to stay running. Ex: "tail -f /dev/null" For more imformation visit https://aka.ms/aci/troubleshoot`, img)
			}
		}
	}
	return in, nil
}

func runContainerCreate(i *inv) (any, error) {
	in, err := i.parseCreateInput()
	if err != nil {
		return nil, err
	}
	s, group, name, err := i.containerTarget()
	if err != nil {
		return nil, err
	}
	// get_default_location_from_resource_group, a validator: it runs
	// before the command, --file or not.
	location := normalizeLocation(i.args.str("location"))
	if location == "" {
		g, err := s.arm().GetResourceGroup(i.ctx, s.subscriptionID(), group)
		if err != nil {
			return nil, err
		}
		location = g.Location
		i.app.log.debugf(logCommands, "using location '%s' from resource group '%s'", g.Location, g.Name)
	}
	if f := i.args.str("file"); f != "" {
		return i.createFromFile(s, group, name, location, f)
	}
	if name == "" {
		return nil, errorf("error: the --name/-n argument is required unless specified with a passed in file.")
	}
	image := i.args.str("image")
	if image == "" {
		return nil, errorf("error: the --image argument is required unless specified with a passed in file.")
	}
	creds, err := i.registryCredentials(image)
	if err != nil {
		return nil, err
	}
	protocol := i.args.str("protocol")
	if protocol == "" {
		protocol = "TCP"
	}
	cpu, mem := in.cpu, in.memory
	c := arm.Container{Name: name, Properties: arm.ContainerProperties{
		Image:     image,
		Resources: &arm.ResourceRequirements{Requests: &arm.ResourceValues{MemoryInGB: &mem, CPU: &cpu}},
	}}
	if cl := i.args.str("command_line"); cl != "" {
		if c.Properties.Command, err = shlexSplit(cl); err != nil {
			return nil, errorf("%s", err.Error())
		}
	}
	if env := append(in.env, in.secure...); len(env) > 0 {
		c.Properties.EnvironmentVariables = env
	}
	var volumes []arm.Volume
	if len(in.secrets) > 0 {
		mount := i.args.str("secrets_mount_path")
		if mount == "" {
			return nil, errorf("Please specify --secrets --secrets-mount-path to enable secrets volume mount.")
		}
		volumes = append(volumes, arm.Volume{Name: "secrets", Secret: in.secrets})
		c.Properties.VolumeMounts = append(c.Properties.VolumeMounts, arm.VolumeMount{Name: "secrets", MountPath: mount})
	}
	// _create_ip_address: Public (or a DNS label) makes an IP; Private
	// needs a subnet, which this CLI does not create.
	var ip *arm.IPAddress
	if strings.EqualFold(i.args.str("ip_address"), "public") || i.args.str("dns_name_label") != "" {
		ip = &arm.IPAddress{Type: "Public", DNSNameLabel: i.args.str("dns_name_label")}
		for _, p := range in.ports {
			ip.Ports = append(ip.Ports, arm.ContainerPort{Protocol: protocol, Port: p})
			c.Properties.Ports = append(c.Properties.Ports, arm.ContainerPort{Protocol: protocol, Port: p})
		}
	}
	body := arm.ContainerGroup{
		Location: location,
		Tags:     map[string]string{},
		Properties: arm.ContainerGroupProperties{
			Containers:               []arm.Container{c},
			OSType:                   or(i.args.str("os_type"), "Linux"),
			RestartPolicy:            or(i.args.str("restart_policy"), "Always"),
			IPAddress:                ip,
			ImageRegistryCredentials: creds,
			Volumes:                  volumes,
			SKU:                      i.args.str("sku"),
			Priority:                 i.args.str("priority"),
		},
	}
	if z := i.args.str("zone"); z != "" {
		body.Zones = []string{z}
	}
	noWait := i.args.flag("no_wait")
	var g *arm.ContainerGroup
	err = i.withProgress(func() error {
		var err error
		g, err = s.arm().CreateContainerGroup(i.ctx, s.subscriptionID(), group, name, body, noWait)
		return err
	})
	if err != nil || g == nil {
		return nil, err
	}
	return containerGroupOutput(*g), nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// registryCredentials is _create_image_registry_credentials.
func (i *inv) registryCredentials(image string) ([]arm.ImageRegistryCredential, error) {
	server := i.args.str("registry_login_server")
	user, pass := i.args.str("registry_username"), i.args.str("registry_password")
	first, _, _ := strings.Cut(image, "/")
	prompt := func(msg, noTTY string) (string, error) {
		if !i.app.stdinIsTTY() {
			return "", errorf("%s", noTTY)
		}
		return i.app.promptLine(msg)
	}
	var err error
	switch {
	case server != "":
		if user == "" {
			return nil, errorf("Please specify --registry-username in order to use custom image registry.")
		}
		if pass == "" {
			if pass, err = prompt("Image registry password: ", "Please specify --registry-password in order to use custom image registry."); err != nil {
				return nil, err
			}
		}
	case i.isACRServer(first):
		if user == "" {
			if user, err = prompt("Image registry username: ", "Please specify --registry-username in order to use Azure Container Registry."); err != nil {
				return nil, err
			}
		}
		if pass == "" {
			if pass, err = prompt("Image registry password: ", "Please specify --registry-password in order to use Azure Container Registry."); err != nil {
				return nil, err
			}
		}
		server = first
	case user != "" && pass != "" && strings.Contains(first, "."):
		server = first
	default:
		return nil, nil
	}
	return []arm.ImageRegistryCredential{{Server: server, Username: user, Password: &pass}}, nil
}

// isACRServer is az's ACR_SERVER_DELIMITER test (".azurecr.io" in the
// image's first segment), extended to Cerulean's registry domain.
func (i *inv) isACRServer(first string) bool {
	if strings.Contains(first, ".azurecr.io") {
		return true
	}
	return strings.Contains(strings.ToLower(first), "."+i.app.registryDomain(i.ctx))
}

// createFromFile is _create_update_from_file.
func (i *inv) createFromFile(s *session, group, name, location, file string) (any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, errorf("No such file or directory: %s", file)
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errorf("Error while parsing yaml file:\n\n%s", err.Error())
	}
	def, ok := jsonable(doc).(map[string]any)
	if !ok {
		return nil, errorf("Error while parsing yaml file:\n\nthe document is not a mapping")
	}
	yamlName, _ := def["name"].(string)
	switch {
	case name != "" && yamlName != "":
		if name != yamlName {
			return nil, errorf("The name parameter and name from yaml definition must match.")
		}
	case name == "" && yamlName == "":
		return nil, errorf("The name of the container group is required")
	case name == "":
		name = yamlName
	}
	def["name"] = name
	if l, ok := def["location"].(string); ok && l != "" {
		location = l
	}
	def["location"] = location
	apiVersion, _ := def["apiVersion"].(string)
	if apiVersion == "" {
		apiVersion = client.APIVersionContainerInstance
	}
	delete(def, "apiVersion")
	noWait := i.args.flag("no_wait")
	var raw []byte
	err = i.withProgress(func() error {
		var err error
		raw, err = s.arm().PutContainerGroupRaw(i.ctx, s.subscriptionID(), group, name, apiVersion, def, noWait)
		return err
	})
	if err != nil || raw == nil {
		return nil, err
	}
	return genericResourceOutput(raw)
}

// jsonable turns a decoded YAML document into JSON-compatible values:
// mappings with non-string keys get string keys, timestamps their text.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = jsonable(x)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		for j, x := range t {
			t[j] = jsonable(x)
		}
		return t
	case time.Time:
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			return t.Format("2006-01-02")
		}
		return t.Format(time.RFC3339Nano)
	}
	return v
}

// genericResourceOut is azure-mgmt-resource's GenericResource as az
// prints it: what create --file returns.
type genericResourceOut struct {
	ID               *string           `json:"id"`
	Name             *string           `json:"name"`
	Type             *string           `json:"type"`
	Location         *string           `json:"location"`
	ExtendedLocation any               `json:"extendedLocation"`
	Tags             map[string]string `json:"tags"`
	Plan             any               `json:"plan"`
	Properties       any               `json:"properties"`
	Kind             *string           `json:"kind"`
	ManagedBy        *string           `json:"managedBy"`
	SKU              any               `json:"sku"`
	Identity         any               `json:"identity"`
	ResourceGroup    *string           `json:"resourceGroup,omitempty"`
}

func genericResourceOutput(raw []byte) (any, error) {
	m, ok := rawValue(raw).(map[string]any)
	if !ok {
		return nil, errors.New("the server returned no resource")
	}
	str := func(k string) *string {
		s, _ := m[k].(string)
		return strOrNil(s)
	}
	out := genericResourceOut{
		ID: str("id"), Name: str("name"), Type: str("type"), Location: str("location"),
		ExtendedLocation: sdkObjectOf(m["extendedLocation"], []string{"name", "type"}, nil),
		Plan:             sdkObjectOf(m["plan"], []string{"name", "publisher", "product", "promotionCode", "version"}, nil),
		Properties:       m["properties"], Kind: str("kind"), ManagedBy: str("managedBy"),
		SKU: sdkObjectOf(m["sku"], []string{"name", "tier", "size", "family", "model", "capacity"}, nil),
		Identity: sdkObjectOf(m["identity"], []string{"principalId", "tenantId", "type", "userAssignedIdentities"}, map[string]func(any) any{
			"userAssignedIdentities": func(v any) any {
				ids, _ := v.(map[string]any)
				out := map[string]any{}
				for k, x := range ids {
					out[k] = sdkObjectOf(x, []string{"principalId", "clientId"}, nil)
				}
				return out
			},
		}),
	}
	if out.ID != nil {
		out.ResourceGroup = resourceGroupOfID(*out.ID)
	}
	if tags, ok := m["tags"].(map[string]any); ok {
		out.Tags = map[string]string{}
		for k, v := range tags {
			out.Tags[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}
