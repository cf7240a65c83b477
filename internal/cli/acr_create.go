package cli

import (
	"net"
	"regexp"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
)

var (
	// acr_create's checks (re.match, so anchored at the start only).
	registryNameUpper = regexp.MustCompile(`^\w*[A-Z]`)
	registryNameDash  = regexp.MustCompile(`^\w*-`)
)

// acrSKUs are get_enum_type(SkuName): the SDK enum's order.
var acrSKUs = []string{"Classic", "Basic", "Standard", "Premium"}

// az acr create (acr/custom.py acr_create; --location defaults to the
// group's, as commands.validators.get_default_location_from_resource_group).
func acrCreateCommand() *command {
	return &command{
		path:         "acr create",
		short:        "Create an Azure Container Registry.",
		subscription: true,
		table:        transformRegistries,
		args: []*argDef{
			acrNameArg(),
			acrGroupArg(true),
			{dest: "sku", options: []string{"--sku"}, kind: argValue, required: true, choices: acrSKUs,
				help: "The SKU of the container registry."},
			{dest: "admin_enabled", options: []string{"--admin-enabled"}, kind: argTriState, choices: []string{"false", "true"},
				help: "Indicates whether the admin user is enabled."},
			{dest: "location", options: []string{"--location", "-l"}, kind: argValue,
				help: "Location. Values from: `az account list-locations`. You can configure the default location using `az configure --defaults location=<location>`."},
			acrTagsArg,
		},
		run: runACRCreate,
	}
}

func runACRCreate(i *inv) (any, error) {
	s, err := i.armSession()
	if err != nil {
		return nil, err
	}
	name, group := i.args.str("registry_name"), i.args.str("resource_group_name")
	location := normalizeLocation(i.args.str("location"))
	if location == "" {
		g, err := s.arm().GetResourceGroup(i.ctx, s.subscriptionID(), group)
		if err != nil {
			msg, _, _ := describeError(err)
			return nil, errorf("error retrieving default location: %s", msg)
		}
		location = g.Location
		i.app.log.debugf(logCommands, "using location '%s' from resource group '%s'", g.Location, g.Name)
	}
	sku := i.args.str("sku")
	switch {
	case sku == "Classic":
		return nil, errorf("Classic SKU is no longer supported. Please select a managed SKU.")
	case registryNameUpper.MatchString(name):
		return nil, errorf("argument error: Registry name must use only lowercase.")
	case registryNameDash.MatchString(name):
		return nil, errorf("argument error: Registry name cannot contain dashes.")
	}
	admin, anonymous := i.args.flag("admin_enabled"), false
	body := arm.RegistryCreate{
		Location: location, SKU: &arm.SKU{Name: sku},
		Properties: &arm.RegistryCreateProperties{AdminUserEnabled: &admin, AnonymousPullEnabled: &anonymous},
	}
	if i.args.has("tags") {
		body.Tags = parseTags(i.args.list("tags"))
	}
	r, err := s.arm().CreateRegistry(i.ctx, s.subscriptionID(), group, name, body)
	if err != nil {
		return nil, err
	}
	if host := loginHost(r.Properties.LoginServer); host != "" {
		_, domain, _ := strings.Cut(host, ".")
		i.app.log.warnf(logACRCustom, "Tools other than az (docker, podman, skopeo, ...) reach %s only if it resolves to this Cerulean server: add a hosts entry, or wildcard DNS for *.%s.", host, domain)
	}
	return registryOutput(r), nil
}

// loginHost is a login server without its port.
func loginHost(loginServer string) string {
	if h, _, err := net.SplitHostPort(loginServer); err == nil {
		return h
	}
	return loginServer
}
