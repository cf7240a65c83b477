package cli

import "fmt"

// az acr delete (acr/custom.py acr_delete): asks first unless --yes
// (_utils.user_confirmation: without a terminal it is an error, not a
// warning), then deletes; nothing is printed.
func acrDeleteCommand() *command {
	return &command{
		path:         "acr delete",
		short:        "Deletes an Azure Container Registry.",
		subscription: true,
		args:         []*argDef{acrNameArg(), acrGroupArg(false), argYes},
		run: func(i *inv) (any, error) {
			name, err := i.registryName()
			if err != nil {
				return nil, err
			}
			if !i.args.flag("yes") {
				if !i.app.stdinIsTTY() {
					return nil, errorf("Unable to prompt for confirmation as no tty available. Use --yes.")
				}
				ok, err := i.app.promptYN(fmt.Sprintf("Are you sure you want to delete the registry '%s'?", name), "")
				if err != nil {
					return nil, err
				}
				if !ok {
					return nil, errCancelled
				}
			}
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			group, err := i.registryGroup(s, name)
			if err != nil {
				return nil, err
			}
			return nil, s.arm().DeleteRegistry(i.ctx, s.subscriptionID(), group, name)
		},
	}
}
