package cli

import "strings"

// az group list (resource/custom.py list_resource_groups).
func groupListCommand() *command {
	return &command{
		path:         "group list",
		short:        "List resource groups.",
		subscription: true,
		table:        transformResourceGroupList,
		args: []*argDef{
			{dest: "tag", options: []string{"--tag"}, kind: argValue, help: "A single tag in 'key[=value]' format. Use \"\" to clear existing tags."},
		},
		run: func(i *inv) (any, error) {
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			var filters []string
			if tag := i.args.str("tag"); tag != "" {
				k, v, hasValue := strings.Cut(tag, "=")
				filters = append(filters, "tagname eq '"+k+"'")
				if hasValue && v != "" {
					filters = append(filters, "tagvalue eq '"+v+"'")
				}
			}
			groups, err := s.arm().ListResourceGroups(i.ctx, s.subscriptionID(), strings.Join(filters, " and "))
			if err != nil {
				return nil, err
			}
			out := make([]resourceGroupOut, 0, len(groups))
			for _, g := range groups {
				out = append(out, groupOut(g))
			}
			return out, nil
		},
	}
}
