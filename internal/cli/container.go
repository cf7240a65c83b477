package cli

// az container: Azure Container Instances container groups
// (container/commands.py, _params.py, custom.py). One file per leaf
// command; this one holds the arguments and helpers they share.

import (
	"github.com/cerulean/cerulean/api/arm"
)

const logContainer = "cli.azure.cli.command_modules.container.custom"

// containerGroupHelp is the group's one-line help (commands.go groupHelp).
const containerGroupHelp = "Manage Azure Container Instances."

// containerCommands are the az container leaves, in registration order.
func containerCommands() []*command {
	return []*command{
		containerCreateCommand(),
		containerShowCommand(),
		containerListCommand(),
		containerDeleteCommand(),
		containerLogsCommand(),
		containerAttachCommand(),
		containerExecCommand(),
		containerExportCommand(),
		containerStartCommand(),
		containerStopCommand(),
		containerRestartCommand(),
	}
}

func containerGroupArg(required bool) *argDef {
	return &argDef{dest: "resource_group_name", options: []string{"--resource-group", "-g"}, kind: argValue, required: required,
		help: "Name of resource group. You can configure the default group using `az configure --defaults group=<name>`."}
}

// containerNameArg is the group's --name; create does not require it (a
// --file may name the group).
func containerNameArg(required bool) *argDef {
	return &argDef{dest: "name", options: []string{"--name", "-n"}, kind: argValue, required: required,
		help: "The name of the container group."}
}

func containerNoWaitArg() *argDef {
	return &argDef{dest: "no_wait", options: []string{"--no-wait"}, kind: argFlag,
		help: "Do not wait for the long-running operation to finish."}
}

// containerTarget opens a session and returns the -g/-n pair.
func (i *inv) containerTarget() (s *session, group, name string, err error) {
	s, err = i.armSession()
	if err != nil {
		return nil, "", "", err
	}
	return s, i.args.str("resource_group_name"), i.args.str("name"), nil
}

// containerGroup reads the addressed container group.
func (i *inv) containerGroup() (s *session, group, name string, g arm.ContainerGroup, err error) {
	if s, group, name, err = i.containerTarget(); err != nil {
		return nil, "", "", g, err
	}
	g, err = s.arm().GetContainerGroup(i.ctx, s.subscriptionID(), group, name)
	return s, group, name, g, err
}

// defaultContainer is the container a logs/attach/exec call addresses:
// --container-name, else the group's first container.
func defaultContainer(g arm.ContainerGroup, name string) string {
	if name != "" || len(g.Properties.Containers) == 0 {
		return name
	}
	return g.Properties.Containers[0].Name
}
