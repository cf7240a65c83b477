package cli

// az version: the versions as JSON (core's get_az_version_json).
func versionCommand() *command {
	return &command{
		path:  "version",
		short: "Show the versions of Azure CLI modules and extensions in JSON format by default or format configured by --output.",
		run: func(*inv) (any, error) {
			type versions struct {
				AzureCLI          string         `json:"azure-cli"`
				AzureCLICore      string         `json:"azure-cli-core"`
				AzureCLITelemetry string         `json:"azure-cli-telemetry"`
				Extensions        map[string]any `json:"extensions"`
			}
			return versions{AzureCLI: Version, AzureCLICore: Version, AzureCLITelemetry: "1.1.0", Extensions: map[string]any{}}, nil
		},
	}
}
