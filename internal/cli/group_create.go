package cli

import "github.com/cerulean/cerulean/api/arm"

// az group create (resource/custom.py create_resource_group).
func groupCreateCommand() *command {
	return &command{
		path:         "group create",
		short:        "Create a new resource group.",
		subscription: true,
		args: []*argDef{
			{dest: "rg_name", options: []string{"--name", "--resource-group", "-n", "-g"}, kind: argValue, required: true,
				help: "Name of the new resource group."},
			{dest: "location", options: []string{"--location", "-l"}, kind: argValue, required: true,
				help: "Location. Values from: `az account list-locations`. You can configure the default location using `az configure --defaults location=<location>`."},
			{dest: "tags", options: []string{"--tags"}, kind: argListOpt, help: `Space-separated tags: key[=value] [key[=value] ...]. Use "" to clear existing tags.`},
			{dest: "managed_by", options: []string{"--managed-by"}, kind: argValue, help: "The ID of the resource that manages this resource group."},
		},
		run: func(i *inv) (any, error) {
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			body := arm.ResourceGroupPut{Location: normalizeLocation(i.args.str("location")), ManagedBy: i.args.optional("managed_by")}
			if i.args.has("tags") {
				body.Tags = parseTags(i.args.list("tags"))
			}
			g, err := s.arm().CreateOrUpdateResourceGroup(i.ctx, s.subscriptionID(), i.args.str("rg_name"), body)
			if err != nil {
				return nil, err
			}
			return groupOut(g), nil
		},
	}
}
