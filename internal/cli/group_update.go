package cli

import (
	"encoding/json"

	"github.com/cerulean/cerulean/api/arm"
)

// az group update: a generic update (GET, apply --tags and
// --set/--add/--remove, PUT the result), as azure.cli.core.commands.arm
// generic_update_command does with resource/custom.py update_resource_group.
func groupUpdateCommand() *command {
	return &command{
		path:         "group update",
		short:        "Update a resource group.",
		subscription: true,
		args: append([]*argDef{
			groupNameArg(),
			{dest: "tags", options: []string{"--tags"}, kind: argListOpt, help: `Space-separated tags: key[=value] [key[=value] ...]. Use "" to clear existing tags.`},
		}, genericUpdateArgs...),
		run: runGroupUpdate,
	}
}

func runGroupUpdate(i *inv) (any, error) {
	s, err := i.armSession()
	if err != nil {
		return nil, err
	}
	name := i.args.str("resource_group_name")
	g, err := s.arm().GetResourceGroup(i.ctx, s.subscriptionID(), name)
	if err != nil {
		return nil, err
	}
	if i.args.has("tags") {
		g.Tags = parseTags(i.args.list("tags"))
	}
	// Apply the generic arguments to the JSON form of the group.
	raw, err := json.Marshal(groupOut(g))
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	if err := i.applyGenericUpdate(obj); err != nil {
		return nil, err
	}
	var updated resourceGroupOut
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &updated); err != nil {
		return nil, errorf("The resource group cannot be updated this way: %v", err)
	}
	body := arm.ResourceGroupPut{Location: updated.Location, ManagedBy: updated.ManagedBy, Tags: updated.Tags}
	res, err := s.arm().CreateOrUpdateResourceGroup(i.ctx, s.subscriptionID(), name, body)
	if err != nil {
		return nil, err
	}
	return groupOut(res), nil
}
