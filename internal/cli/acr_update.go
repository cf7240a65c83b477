package cli

import "strings"

// az acr update: a generic update whose instance is an empty
// RegistryUpdateParameters (acr/custom.py acr_update_get), filled by the
// flags (acr_update_custom) and then by --set/--add/--remove, and sent as
// a PATCH after the registry was read (acr_update_set).
func acrUpdateCommand() *command {
	return &command{
		path:         "acr update",
		short:        "Update an Azure Container Registry.",
		subscription: true,
		table:        transformRegistries,
		args: append([]*argDef{
			acrNameArg(),
			acrGroupArg(false),
			{dest: "sku", options: []string{"--sku"}, kind: argValue, choices: acrSKUs, help: "The SKU of the container registry."},
			{dest: "admin_enabled", options: []string{"--admin-enabled"}, kind: argTriState, choices: []string{"false", "true"},
				help: "Indicates whether the admin user is enabled."},
			{dest: "anonymous_pull_enabled", options: []string{"--anonymous-pull-enabled"}, kind: argTriState, choices: []string{"false", "true"},
				help: "Enable registry-wide pull from unauthenticated clients."},
			acrTagsArg,
		}, genericUpdateArgs...),
		run: runACRUpdate,
	}
}

// managedSKUs are _constants.get_managed_sku.
var managedSKUs = []string{"Basic", "Standard", "Premium"}

func runACRUpdate(i *inv) (any, error) {
	name, err := i.registryName()
	if err != nil {
		return nil, err
	}
	params, err := acrUpdateParameters(i)
	if err != nil {
		return nil, err
	}
	s, err := i.armSession()
	if err != nil {
		return nil, err
	}
	group, err := i.registryGroup(s, name)
	if err != nil {
		return nil, err
	}
	if _, err := s.arm().GetRegistry(i.ctx, s.subscriptionID(), group, name); err != nil {
		return nil, err
	}
	if err := validateSKUUpdate(params); err != nil {
		return nil, err
	}
	r, err := s.arm().UpdateRegistry(i.ctx, s.subscriptionID(), group, name, registryUpdateWire(params))
	if err != nil {
		return nil, err
	}
	return registryOutput(r), nil
}

// acrUpdateParameters builds the flattened RegistryUpdateParameters from
// the flags, then applies the generic arguments to it.
func acrUpdateParameters(i *inv) (map[string]any, error) {
	params := map[string]any{}
	if i.args.has("sku") {
		params["sku"] = map[string]any{"name": i.args.str("sku")}
	}
	if i.args.has("admin_enabled") {
		params["adminUserEnabled"] = i.args.flag("admin_enabled")
	}
	if i.args.has("anonymous_pull_enabled") {
		params["anonymousPullEnabled"] = i.args.flag("anonymous_pull_enabled")
	}
	if i.args.has("tags") {
		tags := map[string]any{}
		for k, v := range parseTags(i.args.list("tags")) {
			tags[k] = v
		}
		params["tags"] = tags
	}
	if err := i.applyGenericUpdate(params); err != nil {
		return nil, err
	}
	return params, nil
}

// validateSKUUpdate is _utils.validate_sku_update for a SKU given by
// --sku or --set sku.name=…: a managed SKU, never back to Classic.
func validateSKUUpdate(params map[string]any) error {
	raw, ok := params["sku"]
	if !ok || raw == nil {
		return nil
	}
	sku, _ := raw.(map[string]any)
	name, _ := sku["name"].(string)
	if name == "Classic" {
		return errorf("Managed registries could not be downgraded to Classic SKU.")
	}
	for _, m := range managedSKUs {
		if name == m {
			return nil
		}
	}
	return errorf("Please specify SKU by '--sku SKU' or '--set sku.name=SKU'. Allowed SKUs: %s", pyList(managedSKUs))
}

// registryUpdateWire turns the flattened parameters into the PATCH body:
// identity, tags and sku at the top, the rest under properties.
func registryUpdateWire(params map[string]any) map[string]any {
	body := map[string]any{}
	props := map[string]any{}
	for k, v := range params {
		switch k {
		case "identity", "tags", "sku":
			body[k] = v
		case "policies":
			props[k] = policiesWire(v)
		default:
			props[k] = v
		}
	}
	if len(props) > 0 {
		body["properties"] = props
	}
	return body
}

// policiesWire renames the Python attribute's camel case to the wire's.
func policiesWire(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, p := range m {
		if strings.EqualFold(k, "azureAdAuthenticationAsArmPolicy") {
			k = "azureADAuthenticationAsArmPolicy"
		}
		out[k] = p
	}
	return out
}
