package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// This file renders help in the layout of knack's CLIHelp.

const welcome = `
     /\
    /  \    _____   _ _  ___ _
   / /\ \  |_  / | | | \'__/ _\
  / ____ \  / /| |_| | | |  __/
 /_/    \_\/___|\__,_|_|  \___|


Welcome to the cool new Azure CLI!

Use ` + "`az --version`" + ` to display the current version.
Here are the base commands:
`

func (a *app) printWelcome(root *cobra.Command) {
	fmt.Fprint(a.stdout, welcome)
	fmt.Fprintln(a.stdout)
	groups, cmds := sortedChildren(root, buildTree(commandTable()).leaves)
	writeEntries(a.stdout, append(groups, cmds...))
}

func (a *app) printGroupHelp(tree *cmdTree, node *cobra.Command, prog string) {
	w := a.stdout
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Group")
	fmt.Fprintf(w, "    %s", prog)
	if node.Short != "" {
		fmt.Fprintf(w, " : %s", node.Short)
	}
	fmt.Fprintln(w)
	groups, cmds := sortedChildren(node, tree.leaves)
	if len(groups) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Subgroups:")
		writeEntries(w, groups)
	}
	if len(cmds) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Commands:")
		writeEntries(w, cmds)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "To search AI knowledge base for examples, use: az find \""+prog+"\"")
	fmt.Fprintln(w)
}

func writeEntries(w io.Writer, entries []*cobra.Command) {
	width := 0
	for _, e := range entries {
		width = max(width, len(e.Name()))
	}
	for _, e := range entries {
		fmt.Fprintf(w, "    %-*s : %s\n", width, e.Name(), e.Short)
	}
}

func (a *app) printCommandHelp(cmd *command, prog string) {
	w := a.stdout
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Command")
	fmt.Fprintf(w, "    %s : %s\n", prog, cmd.short)
	sections := map[string][]*argDef{}
	var order []string
	for _, d := range cmd.allArgs() {
		if d.hidden {
			continue
		}
		g := d.group
		if g == "" {
			g = "Arguments"
		}
		if _, ok := sections[g]; !ok {
			order = append(order, g)
		}
		sections[g] = append(sections[g], d)
	}
	// Command arguments first, global ones last, as knack does.
	var sorted []string
	for _, g := range order {
		if g == "Arguments" {
			sorted = append(sorted, g)
		}
	}
	for _, g := range order {
		if g != "Arguments" && g != "Global Arguments" {
			sorted = append(sorted, g)
		}
	}
	for _, g := range order {
		if g == "Global Arguments" {
			sorted = append(sorted, g)
		}
	}
	width := 0
	for _, d := range cmd.allArgs() {
		width = max(width, len(helpName(d)))
	}
	for _, g := range sorted {
		fmt.Fprintln(w)
		fmt.Fprintln(w, g)
		defs := sections[g]
		// Required arguments first, then alphabetical.
		for _, req := range []bool{true, false} {
			for _, d := range sortedDefs(defs) {
				if d.required != req {
					continue
				}
				text := d.help
				if d.required && !d.positional {
					text = "[Required] : " + text
				} else {
					text = ": " + text
				}
				if len(d.choices) > 0 {
					text += "  Allowed values: " + strings.Join(d.choices, ", ") + "."
				}
				fmt.Fprintf(w, "    %-*s %s\n", width, helpName(d), text)
			}
		}
	}
	fmt.Fprintln(w)
}

func helpName(d *argDef) string {
	var long, short []string
	for _, o := range d.options {
		if strings.HasPrefix(o, "--") {
			long = append(long, o)
		} else {
			short = append(short, o)
		}
	}
	return strings.Join(append(long, short...), " ")
}

func sortedDefs(defs []*argDef) []*argDef {
	out := append([]*argDef{}, defs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && helpName(out[j]) < helpName(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
