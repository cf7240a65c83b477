package cli

// Shared pieces of the az acr management commands (azure-cli
// command_modules/acr: custom.py, credential.py, _params.py, _utils.py,
// _validators.py): arguments, the registry name check and resolving a
// registry's resource group by name. The output is in acr_output.go.

import (
	"regexp"
	"strings"

	"github.com/cerulean/cerulean/internal/client"
)

// Logger names of the acr module (shown with --debug).
const (
	logACR       = "cli.azure.cli.command_modules.acr._validators"
	logACRCustom = "cli.azure.cli.command_modules.acr.custom"
)

// acrNameArg is the acr commands' --name/-n.
func acrNameArg() *argDef {
	return &argDef{dest: "registry_name", options: []string{"--name", "-n"}, kind: argValue, required: true,
		help: "The name of the container registry. It should be specified in lower case. You can configure the default registry name using `az configure --defaults acr=<registry name>`."}
}

// acrGroupArg is --resource-group/-g; az finds the group by itself when
// it is not given (except for create).
func acrGroupArg(required bool) *argDef {
	return &argDef{dest: "resource_group_name", options: []string{"--resource-group", "-g"}, kind: argValue, required: required,
		help: "Name of resource group. You can configure the default group using `az configure --defaults group=<name>`."}
}

var acrTagsArg = &argDef{dest: "tags", options: []string{"--tags"}, kind: argListOpt,
	help: `Space-separated tags: key[=value] [key[=value] ...]. Use "" to clear existing tags.`}

// registryNamePattern is _validators.validate_registry_name's pattern.
var registryNamePattern = regexp.MustCompile(`^[a-zA-Z0-9]{5,50}$`)

// badRegistryName is _validators.BAD_REGISTRY_NAME.
const badRegistryName = "Registry names may contain only alpha numeric characters and must be between 5 and 50 characters"

// registryName is validate_registry_name: a login server's suffix is
// dropped with a warning (az knows its cloud's ".azurecr.io"; a registry
// name has no dot, so here everything from the first dot is the suffix),
// then the name must be 5–50 letters and digits.
func (i *inv) registryName() (string, error) {
	name := i.args.str("registry_name")
	if pos := strings.IndexByte(name, '.'); pos > 0 {
		i.app.log.warnf(logACR, "The login server endpoint suffix '%s' is automatically omitted.", name[pos:])
		name = name[:pos]
	}
	if !registryNamePattern.MatchString(name) {
		return "", errorf("%s", badRegistryName)
	}
	return name, nil
}

// registryGroup is _utils.get_resource_group_name_by_registry_name: -g
// if given, otherwise the group of the subscription's only registry of
// that name, found through the generic resource list (lower-cased, as az
// takes it from the lower-cased id).
func (i *inv) registryGroup(s *session, name string) (string, error) {
	if g := i.args.str("resource_group_name"); g != "" {
		return g, nil
	}
	found, err := s.arm().FindRegistries(i.ctx, s.subscriptionID(), name)
	if err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		return "", errorf("The resource with name '%s' and type '%s' could not be found in subscription '%s (%s)'.",
			name, client.RegistryResourceType, s.account.Name, s.account.ID)
	case 1:
		id := strings.ToLower(found[0].ID)
		const marker = "/resourcegroups/"
		start := strings.Index(id, marker)
		end := strings.Index(id, "/providers/")
		if start < 0 || end < start+len(marker) {
			return "", errorf("The resource id '%s' has no resource group.", found[0].ID)
		}
		return id[start+len(marker) : end], nil
	default:
		return "", errorf("More than one resources with type '%s' are found with name '%s'.", client.RegistryResourceType, name)
	}
}

// registryTarget is what most acr commands start with: a session, the
// validated registry name and its resource group.
func (i *inv) registryTarget() (s *session, name, group string, err error) {
	if name, err = i.registryName(); err != nil {
		return nil, "", "", err
	}
	if s, err = i.armSession(); err != nil {
		return nil, "", "", err
	}
	if group, err = i.registryGroup(s, name); err != nil {
		return nil, "", "", err
	}
	return s, name, group, nil
}
