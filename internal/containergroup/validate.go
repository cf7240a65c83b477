package containergroup

import (
	"encoding/base64"
	"regexp"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// Validation errors. Codes and texts are ACI's where Azure's output was
// seen (/shared/reference/aci.md §5.2); the others (marked) follow the
// same style, since no source showed Azure's.
var (
	ErrInvalidOSType               = errdefs.New(errdefs.InvalidArgument, "InvalidOsType", "invalid OS type")
	ErrOSTypeNotSupported          = errdefs.New(errdefs.InvalidArgument, "OsTypeNotSupported", "OS type not supported") // Cerulean's
	ErrResourceRequestsMissing     = errdefs.New(errdefs.InvalidArgument, "ResourceRequestsNotSpecified", "resource requests not specified")
	ErrResourceRequestMissing      = errdefs.New(errdefs.InvalidArgument, "ResourceSomeRequestsNotSpecified", "resource request not specified")
	ErrResourceRequestOutOfRange   = errdefs.New(errdefs.InvalidArgument, "InvalidResourceRequests", "resource request out of range") // unverified code
	ErrLimitsLessThanRequests      = errdefs.New(errdefs.InvalidArgument, "ResourceLimitsLessThanRequests", "limit below request")
	ErrLimitGreaterThanGroupTotal  = errdefs.New(errdefs.InvalidArgument, "ContainerLimitGreaterThanContainerGroupTotalRequest", "limit above group total")
	ErrGroupResourcesExceeded      = errdefs.New(errdefs.InvalidArgument, "ContainerGroupResourcesExceedLimit", "group resources exceed the limit") // unverified code
	ErrMissingIPAddressPorts       = errdefs.New(errdefs.InvalidArgument, "MissingIpAddressPorts", "ipAddress ports missing")
	ErrInvalidContainerName        = errdefs.New(errdefs.InvalidArgument, "InvalidContainerName", "invalid container name")
	ErrInvalidGroupName            = errdefs.New(errdefs.InvalidArgument, "InvalidContainerGroupName", "invalid container group name")
	ErrDuplicateContainerName      = errdefs.New(errdefs.InvalidArgument, "DuplicateContainerName", "duplicate container name")
	ErrContainersMissing           = errdefs.New(errdefs.InvalidArgument, "ContainerGroupContainersNotSpecified", "no containers")       // unverified code
	ErrTooManyContainers           = errdefs.New(errdefs.InvalidArgument, "ContainerGroupContainerCountExceeded", "too many containers") // unverified code
	ErrInvalidImage                = errdefs.New(errdefs.InvalidArgument, "InvalidContainerImage", "invalid image")                      // unverified code
	ErrInvalidPort                 = errdefs.New(errdefs.InvalidArgument, "InvalidContainerPort", "invalid port")                        // unverified code
	ErrInvalidProtocol             = errdefs.New(errdefs.InvalidArgument, "InvalidPortProtocol", "invalid protocol")                     // unverified code
	ErrTooManyPorts                = errdefs.New(errdefs.InvalidArgument, "IpAddressPortsExceedLimit", "too many ports")                 // unverified code
	ErrInvalidIPAddressType        = errdefs.New(errdefs.InvalidArgument, "InvalidIpAddressType", "invalid IP address type")             // unverified code
	ErrInvalidDNSNameLabel         = errdefs.New(errdefs.InvalidArgument, "InvalidDnsNameLabel", "invalid DNS name label")
	ErrInvalidRestartPolicy        = errdefs.New(errdefs.InvalidArgument, "InvalidRestartPolicy", "invalid restart policy") // unverified code
	ErrInvalidEnvironmentVariable  = errdefs.New(errdefs.InvalidArgument, "InvalidEnvironmentVariable", "invalid environment variable")
	ErrInvalidVolume               = errdefs.New(errdefs.InvalidArgument, "InvalidVolume", "invalid volume") // unverified code
	ErrDuplicateVolumeName         = errdefs.New(errdefs.InvalidArgument, "DuplicateVolumeName", "duplicate volume name")
	ErrVolumeMountNotFound         = errdefs.New(errdefs.InvalidArgument, "InvalidVolumeMount", "volume mount of an unknown volume") // unverified code
	ErrInvalidRegistryServer       = errdefs.New(errdefs.InvalidArgument, "InvalidImageRegistryServer", "invalid registry server")
	ErrAmbiguousCredentialType     = errdefs.New(errdefs.InvalidArgument, "AmbiguousImageResitryCredentialType", "ambiguous credential type") // sic, Azure's spelling
	ErrUnsupportedFeature          = errdefs.New(errdefs.InvalidArgument, "FeatureNotSupported", "not supported by Cerulean")                 // Cerulean's
	ErrInvalidContainerGroupUpdate = errdefs.New(errdefs.InvalidArgument, "InvalidContainerGroupUpdate", "invalid update")
)

// Limits (ACI's standard Linux SKU, /shared/reference/aci.md §5.1).
const (
	MaxContainers   = 60
	MaxVolumes      = 20
	MaxPortsPerIP   = 5
	MaxGroupCPU     = 4.0
	MaxGroupMemory  = 16.0
	maxNameLength   = 63
	maxCommandItems = 1024
)

var (
	// ACI's container name rule (its own error text quotes the regex).
	containerNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// Group names: 1–63 lowercase letters, digits and hyphens, no leading,
	// trailing or double hyphen.
	groupNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsLabelRE  = regexp.MustCompile(`^[a-z][-a-z0-9]{3,61}[a-z0-9]$`)
	envNameRE   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	volumeRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	hostRE      = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)
)

// ValidateGroupName checks a container group name.
func ValidateGroupName(name string) error {
	if len(name) > maxNameLength || !groupNameRE.MatchString(name) || strings.Contains(name, "--") {
		return ErrInvalidGroupName.WithMessage("The container group name '%s' is invalid. The container group name must contain no more than 63 characters and must match the regex '[a-z0-9]([-a-z0-9]*[a-z0-9])?' (e.g. 'my-name').", name).WithTarget(name)
	}
	return nil
}

// Validate checks a spec with ACI's rules, before anything runs. group is
// the group's name, for the messages.
func (s *Spec) Validate(group string) error {
	switch strings.ToLower(s.OSType) {
	case "linux":
		s.OSType = "Linux"
	case "windows":
		return ErrOSTypeNotSupported.WithMessage("The 'osType' 'Windows' of container group '%s' is not supported: Cerulean runs Linux containers only.", group).WithTarget("properties.osType")
	default:
		name := group
		if s.OSType == "" {
			name = "<null>" // as Azure prints it
		}
		return ErrInvalidOSType.WithMessage("The 'osType' for container group '%s' is invalid. The value must be one of 'Windows,Linux'.", name).WithTarget("properties.osType")
	}
	switch strings.ToLower(string(s.RestartPolicy)) {
	case "", "always":
		s.RestartPolicy = RestartAlways
	case "onfailure":
		s.RestartPolicy = RestartOnFailure
	case "never":
		s.RestartPolicy = RestartNever
	default:
		return ErrInvalidRestartPolicy.WithMessage("The restart policy '%s' of container group '%s' is invalid. The value must be one of 'Always,OnFailure,Never'.", s.RestartPolicy, group).WithTarget("properties.restartPolicy")
	}
	switch strings.ToLower(s.SKU) {
	case "", "standard":
		s.SKU = "Standard"
	default:
		return ErrUnsupportedFeature.WithMessage("The sku '%s' of container group '%s' is not supported by Cerulean; use 'Standard'.", s.SKU, group).WithTarget("properties.sku")
	}
	if len(s.Containers) == 0 {
		return ErrContainersMissing.WithMessage("The containers of container group '%s' cannot be empty.", group).WithTarget("properties.containers")
	}
	if len(s.Containers)+len(s.InitContainers) > MaxContainers {
		return ErrTooManyContainers.WithMessage("The number of containers in container group '%s' exceeds the limit of %d.", group, MaxContainers).WithTarget("properties.containers")
	}
	volumes, err := s.validateVolumes(group)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	var cpu, mem float64
	for i := range s.InitContainers {
		if err := s.InitContainers[i].validate(group, names, volumes, true); err != nil {
			return err
		}
	}
	for i := range s.Containers {
		c := &s.Containers[i]
		if err := c.validate(group, names, volumes, false); err != nil {
			return err
		}
		cpu += c.Requests.CPU
		mem += c.Requests.MemoryGB
	}
	if cpu > MaxGroupCPU || mem > MaxGroupMemory {
		return ErrGroupResourcesExceeded.WithMessage("The requested resource of container group '%s' exceeds the limit: %g CPU and %g GB memory requested, at most %g CPU and %g GB memory allowed for a Linux container group.",
			group, cpu, mem, MaxGroupCPU, MaxGroupMemory).WithTarget("properties.containers")
	}
	for _, c := range s.Containers {
		if c.Limits == nil {
			continue
		}
		if c.Limits.CPU > cpu {
			return ErrLimitGreaterThanGroupTotal.WithMessage("The 'Cpu' limit '%g' in container '%s' is greater than the container group total request '%g'.", c.Limits.CPU, c.Name, cpu).WithTarget("properties.containers")
		}
		if c.Limits.MemoryGB > mem {
			return ErrLimitGreaterThanGroupTotal.WithMessage("The 'MemoryInGB' limit '%g' in container '%s' is greater than the container group total request '%g'.", c.Limits.MemoryGB, c.Name, mem).WithTarget("properties.containers")
		}
	}
	if err := s.validateIPAddress(group); err != nil {
		return err
	}
	return s.validateCredentials(group)
}

func (c *Container) validate(group string, names map[string]bool, volumes map[string]bool, init bool) error {
	if len(c.Name) > maxNameLength || !containerNameRE.MatchString(c.Name) {
		return ErrInvalidContainerName.WithMessage("The container name '%s' in container group '%s' is invalid. The container name must contain no more than 63 characters and must match the regex '[a-z0-9]([-a-z0-9]*[a-z0-9])?' (e.g. 'my-name').", c.Name, group).WithTarget("properties.containers")
	}
	if names[c.Name] {
		return ErrDuplicateContainerName.WithMessage("The container name '%s' in container group '%s' is used more than once. Container names must be unique in a container group.", c.Name, group).WithTarget("properties.containers")
	}
	names[c.Name] = true
	if strings.TrimSpace(c.Image) == "" || len(c.Image) > 512 || strings.ContainsAny(c.Image, " \t\r\n") {
		return ErrInvalidImage.WithMessage("The image '%s' of container '%s' in container group '%s' is invalid.", truncate(c.Image), c.Name, group).WithTarget("properties.containers")
	}
	if len(c.Command) > maxCommandItems {
		return ErrInvalidImage.WithMessage("The command of container '%s' in container group '%s' has more than %d items.", c.Name, group, maxCommandItems).WithTarget("properties.containers")
	}
	if !init {
		if c.Requests == nil {
			return ErrResourceRequestsMissing.WithMessage("The resource requests are not specified in container '%s' of contain group '%s'. Both memory and CPU requests are required since API version '2017-07-01-preview'.", c.Name, group).WithTarget("properties.containers")
		}
		if err := checkResources(c.Name, group, *c.Requests, "request"); err != nil {
			return err
		}
		if c.Limits != nil {
			if c.Limits.CPU < 0 || c.Limits.MemoryGB < 0 {
				return ErrResourceRequestOutOfRange.WithMessage("The resource limits of container '%s' in container group '%s' cannot be negative.", c.Name, group).WithTarget("properties.containers")
			}
			if c.Limits.MemoryGB != 0 && c.Limits.MemoryGB < c.Requests.MemoryGB {
				return ErrLimitsLessThanRequests.WithMessage("The resource requirement of container '%s' of contain group '%s' is invalid. The 'MemoryInGB' limit value must be greater than or equal to the request value.", c.Name, group).WithTarget("properties.containers")
			}
			if c.Limits.CPU != 0 && c.Limits.CPU < c.Requests.CPU {
				return ErrLimitsLessThanRequests.WithMessage("The resource requirement of container '%s' of contain group '%s' is invalid. The 'Cpu' limit value must be greater than or equal to the request value.", c.Name, group).WithTarget("properties.containers")
			}
		}
	}
	for i := range c.Ports {
		if err := checkPort(&c.Ports[i], group); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, e := range c.Env {
		if len(e.Name) > 255 || !envNameRE.MatchString(e.Name) {
			return ErrInvalidEnvironmentVariable.WithMessage("The environment variable name '%s' in container '%s' of container group '%s' is invalid. A valid name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit.", truncate(e.Name), c.Name, group).WithTarget("properties.containers")
		}
		if seen[e.Name] {
			return ErrInvalidEnvironmentVariable.WithMessage("The environment variable name '%s' in container '%s' of container group '%s' is used more than once.", e.Name, c.Name, group).WithTarget("properties.containers")
		}
		seen[e.Name] = true
	}
	paths := map[string]bool{}
	for _, m := range c.Mounts {
		if !volumes[m.Volume] {
			return ErrVolumeMountNotFound.WithMessage("The volume mount '%s' of container '%s' in container group '%s' is invalid: the container group has no volume named '%s'.", m.Volume, c.Name, group, m.Volume).WithTarget("properties.containers")
		}
		if !strings.HasPrefix(m.Path, "/") || strings.Contains(m.Path, ":") || strings.Contains(m.Path, "\x00") || hasDotDot(m.Path) || m.Path == "/" {
			return ErrVolumeMountNotFound.WithMessage("The mount path '%s' of volume mount '%s' in container '%s' of container group '%s' is invalid. It must be an absolute path, not '/', without ':' or '..'.", truncate(m.Path), m.Volume, c.Name, group).WithTarget("properties.containers")
		}
		if paths[m.Path] {
			return ErrVolumeMountNotFound.WithMessage("The mount path '%s' is used more than once in container '%s' of container group '%s'.", m.Path, c.Name, group).WithTarget("properties.containers")
		}
		paths[m.Path] = true
	}
	return nil
}

func hasDotDot(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

func checkResources(container, group string, r Resources, what string) error {
	if r.CPU == 0 {
		return ErrResourceRequestMissing.WithMessage("The 'Cpu' %s is not specified in container '%s' of contain group '%s'. It is required since API version '2017-07-01-preview'.", what, container, group).WithTarget("properties.containers")
	}
	if r.MemoryGB == 0 {
		return ErrResourceRequestMissing.WithMessage("The 'MemoryInGB' %s is not specified in container '%s' of contain group '%s'. It is required since API version '2017-07-01-preview'.", what, container, group).WithTarget("properties.containers")
	}
	if r.CPU < 0.01 || r.CPU > MaxGroupCPU {
		return ErrResourceRequestOutOfRange.WithMessage("The 'Cpu' %s '%g' of container '%s' in container group '%s' is out of range: it must be between 0.01 and %g.", what, r.CPU, container, group, MaxGroupCPU).WithTarget("properties.containers")
	}
	if r.MemoryGB < 0.1 || r.MemoryGB > MaxGroupMemory {
		return ErrResourceRequestOutOfRange.WithMessage("The 'MemoryInGB' %s '%g' of container '%s' in container group '%s' is out of range: it must be between 0.1 and %g.", what, r.MemoryGB, container, group, MaxGroupMemory).WithTarget("properties.containers")
	}
	return nil
}

func checkPort(p *Port, group string) error {
	if p.Port < 1 || p.Port > 65535 {
		return ErrInvalidPort.WithMessage("The port '%d' in container group '%s' is invalid. The port must be between 1 and 65535.", p.Port, group).WithTarget("properties.containers")
	}
	switch strings.ToUpper(p.Protocol) {
	case "", "TCP":
		p.Protocol = "TCP"
	case "UDP":
		p.Protocol = "UDP"
	default:
		return ErrInvalidProtocol.WithMessage("The protocol '%s' of port '%d' in container group '%s' is invalid. The value must be one of 'TCP,UDP'.", truncate(p.Protocol), p.Port, group).WithTarget("properties.containers")
	}
	return nil
}

func (s *Spec) validateIPAddress(group string) error {
	ip := s.IPAddress
	if ip == nil {
		return nil
	}
	switch strings.ToLower(ip.Type) {
	case "public":
		ip.Type = "Public"
	case "private":
		return ErrUnsupportedFeature.WithMessage("The 'Private' IP address type of container group '%s' needs a virtual network, which Cerulean does not support yet; use 'Public' (a loopback address on this machine).", group).WithTarget("properties.ipAddress.type")
	default:
		return ErrInvalidIPAddressType.WithMessage("The IP address type '%s' of container group '%s' is invalid. The value must be one of 'Public,Private'.", truncate(ip.Type), group).WithTarget("properties.ipAddress.type")
	}
	if len(ip.Ports) == 0 {
		return ErrMissingIPAddressPorts.WithMessage("The ports in the 'ipAddress' of container group '%s' cannot be empty.", group).WithTarget("properties.ipAddress.ports")
	}
	if len(ip.Ports) > MaxPortsPerIP {
		return ErrTooManyPorts.WithMessage("The number of ports in the 'ipAddress' of container group '%s' exceeds the limit of %d.", group, MaxPortsPerIP).WithTarget("properties.ipAddress.ports")
	}
	seen := map[Port]bool{}
	for i := range ip.Ports {
		if err := checkPort(&ip.Ports[i], group); err != nil {
			return err
		}
		if seen[ip.Ports[i]] {
			return ErrInvalidPort.WithMessage("The port '%d' (%s) is listed more than once in the 'ipAddress' of container group '%s'.", ip.Ports[i].Port, ip.Ports[i].Protocol, group).WithTarget("properties.ipAddress.ports")
		}
		seen[ip.Ports[i]] = true
	}
	if ip.DNSNameLabel != "" {
		if !dnsLabelRE.MatchString(ip.DNSNameLabel) || strings.Contains(ip.DNSNameLabel, "--") {
			return ErrInvalidDNSNameLabel.WithMessage("The DNS name label '%s' in container group '%s' is invalid. It can contain only lowercase letters, numbers and hyphens. The first character must be a letter. The last character must be a letter or number. The value must be between 5 and 63 characters long.", truncate(ip.DNSNameLabel), group).WithTarget("properties.ipAddress.dnsNameLabel")
		}
	}
	return nil
}

func (s *Spec) validateVolumes(group string) (map[string]bool, error) {
	if len(s.Volumes) > MaxVolumes {
		return nil, ErrInvalidVolume.WithMessage("The number of volumes in container group '%s' exceeds the limit of %d.", group, MaxVolumes).WithTarget("properties.volumes")
	}
	names := map[string]bool{}
	for _, v := range s.Volumes {
		if len(v.Name) > maxNameLength || !volumeRE.MatchString(v.Name) {
			return nil, ErrInvalidVolume.WithMessage("The volume name '%s' in container group '%s' is invalid. The volume name must contain no more than 63 characters and must match the regex '[a-z0-9]([-a-z0-9]*[a-z0-9])?' (e.g. 'my-name').", truncate(v.Name), group).WithTarget("properties.volumes")
		}
		if names[v.Name] {
			return nil, ErrDuplicateVolumeName.WithMessage("The volume name '%s' in container group '%s' is used more than once. Volume names must be unique in a container group.", v.Name, group).WithTarget("properties.volumes")
		}
		names[v.Name] = true
		if v.EmptyDir == (v.Secret != nil) {
			return nil, ErrInvalidVolume.WithMessage("The volume '%s' in container group '%s' must have exactly one of 'emptyDir', 'secret', 'gitRepo' or 'azureFile'.", v.Name, group).WithTarget("properties.volumes")
		}
		for file, content := range v.Secret {
			if file == "" || file == "." || file == ".." || strings.ContainsAny(file, "/\x00") || len(file) > 255 {
				return nil, ErrInvalidVolume.WithMessage("The secret file name '%s' of volume '%s' in container group '%s' is invalid.", truncate(file), v.Name, group).WithTarget("properties.volumes")
			}
			if _, err := base64.StdEncoding.DecodeString(content); err != nil {
				return nil, ErrInvalidVolume.WithMessage("The secret value of '%s' in volume '%s' of container group '%s' is not valid base64.", truncate(file), v.Name, group).WithTarget("properties.volumes")
			}
		}
	}
	return names, nil
}

func (s *Spec) validateCredentials(group string) error {
	servers := map[string]bool{}
	for _, c := range s.Credentials {
		if c.Server == "" || !hostRE.MatchString(c.Server) || len(c.Server) > 253 {
			return ErrInvalidRegistryServer.WithMessage("The server '%s' in the 'imageRegistryCredentials' of container group '%s' is invalid. It should be a valid host name without protocol.", truncate(c.Server), group).WithTarget("properties.imageRegistryCredentials")
		}
		if c.Username == "" {
			return ErrAmbiguousCredentialType.WithMessage("The registry credential type in the 'imageRegistryCredentials' of container group '%s' cannot be detected. Please set exactly one of username or identity", group).WithTarget("properties.imageRegistryCredentials")
		}
		key := strings.ToLower(c.Server)
		if servers[key] {
			return ErrInvalidRegistryServer.WithMessage("The server '%s' is listed more than once in the 'imageRegistryCredentials' of container group '%s'.", c.Server, group).WithTarget("properties.imageRegistryCredentials")
		}
		servers[key] = true
	}
	return nil
}

// checkUpdate refuses the changes ACI only allows by delete and re-create.
func checkUpdate(old, next *Spec, group string) error {
	immutable := old.OSType != next.OSType || old.RestartPolicy != next.RestartPolicy ||
		len(old.Containers) != len(next.Containers) || !sameIPType(old.IPAddress, next.IPAddress)
	if !immutable {
		for i := range old.Containers {
			a, b := old.Containers[i], next.Containers[i]
			if a.Name != b.Name || *a.Requests != *b.Requests || !sameLimits(a.Limits, b.Limits) {
				immutable = true
				break
			}
		}
	}
	if immutable {
		return ErrInvalidContainerGroupUpdate.WithMessage("The updates on container group '%s' are invalid. If you are going to update the os type, restart policy, network profile, CPU, memory or GPU resources for a container group, you must delete it first and then create a new one.", group).WithTarget("properties")
	}
	return nil
}

func sameLimits(a, b *Resources) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func sameIPType(a, b *IPAddress) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Type == b.Type
}

// truncate cuts an echoed value to 100 bytes, on a rune boundary.
func truncate(s string) string {
	if len(s) > 100 {
		return strings.ToValidUTF8(s[:100], "") + "…"
	}
	return s
}
