package client

import (
	"encoding/json"
	"testing"
)

// The golden bodies are what az 2.45's SDK (azure-mgmt-containerregistry
// 2019-06-01-preview, msrest's Serializer.body) produced for the same
// requests, run once with Debian's python3.
func TestScheduleRunBodies(t *testing.T) {
	timeout := 600
	runTimeout := 300
	tests := []struct {
		name string
		body any
		want string
	}{
		{"build, az acr build -r R -t myimage:v1 --build-arg A=1 .",
			dockerBuildBody(QuickBuild{ImageNames: []string{"myimage:v1"}, Push: true, DockerFilePath: "0123_Dockerfile",
				Arguments: []RunArgument{{Name: "A", Value: "1"}}, Platform: RunPlatform{OS: "linux", Architecture: "amd64"},
				SourceLocation: "source/x.tar.gz"}),
			`{"type":"DockerBuildRequest","isArchiveEnabled":false,"imageNames":["myimage:v1"],"isPushEnabled":true,"noCache":false,"dockerFilePath":"0123_Dockerfile","arguments":[{"name":"A","value":"1","isSecret":false}],"platform":{"os":"linux","architecture":"amd64"},"sourceLocation":"source/x.tar.gz","credentials":{}}`},
		{"build without images or arguments",
			dockerBuildBody(QuickBuild{DockerFilePath: "Dockerfile", Platform: RunPlatform{OS: "linux", Architecture: "amd64"}, SourceLocation: "s"}),
			`{"type":"DockerBuildRequest","isArchiveEnabled":false,"isPushEnabled":false,"noCache":false,"dockerFilePath":"Dockerfile","arguments":[],"platform":{"os":"linux","architecture":"amd64"},"sourceLocation":"s","credentials":{}}`},
		{"build with everything",
			dockerBuildBody(QuickBuild{ImageNames: []string{"a:{{.Run.ID}}", "b:1"}, Push: true, DockerFilePath: "u_Dockerfile", Target: "final",
				Arguments: []RunArgument{{Name: "A", Value: "1"}, {Name: "S", Value: "s", Secret: true}}, Timeout: &timeout,
				Platform: RunPlatform{OS: "linux", Architecture: "arm", Variant: "v7"}, SourceLocation: "source/x.tar.gz", AuthMode: "None"}),
			`{"type":"DockerBuildRequest","isArchiveEnabled":false,"imageNames":["a:{{.Run.ID}}","b:1"],"isPushEnabled":true,"noCache":false,"dockerFilePath":"u_Dockerfile","target":"final","arguments":[{"name":"A","value":"1","isSecret":false},{"name":"S","value":"s","isSecret":true}],"timeout":600,"platform":{"os":"linux","architecture":"arm","variant":"v7"},"sourceLocation":"source/x.tar.gz","credentials":{"sourceRegistry":{"loginMode":"None"}}}`},
		{"run, az acr run --cmd mcr.microsoft.com/hello-world /dev/null",
			encodedTaskRunBody(QuickRun{Task: "version: v1.1.0\nsteps: \n  - cmd: mcr.microsoft.com/hello-world\n    disableWorkingDirectoryOverride: true\n",
				Platform: RunPlatform{OS: "linux", Architecture: "amd64"}}),
			`{"type":"EncodedTaskRunRequest","isArchiveEnabled":false,"encodedTaskContent":"dmVyc2lvbjogdjEuMS4wCnN0ZXBzOiAKICAtIGNtZDogbWNyLm1pY3Jvc29mdC5jb20vaGVsbG8td29ybGQKICAgIGRpc2FibGVXb3JraW5nRGlyZWN0b3J5T3ZlcnJpZGU6IHRydWUK","values":[],"platform":{"os":"linux","architecture":"amd64"},"credentials":{}}`},
		{"run with values and a timeout",
			encodedTaskRunBody(QuickRun{Task: "A", Values: []RunArgument{{Name: "a", Value: "1"}, {Name: "s", Value: "x", Secret: true}},
				Timeout: &runTimeout, Platform: RunPlatform{OS: "linux", Architecture: "amd64"}}),
			`{"type":"EncodedTaskRunRequest","isArchiveEnabled":false,"encodedTaskContent":"QQ==","values":[{"name":"a","value":"1","isSecret":false},{"name":"s","value":"x","isSecret":true}],"timeout":300,"platform":{"os":"linux","architecture":"amd64"},"credentials":{}}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.body)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
