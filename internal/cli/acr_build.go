package cli

// az acr build (acr/build.py): pack the local context (acr_build_pack.go),
// upload it to the SAS URL of listBuildSourceUploadUrl, queue a
// DockerBuildRequest with scheduleRun, then follow the run's log (or, with
// --no-logs, the run; with --no-wait, nothing).
//
// Cerulean extensions: the context may also be a tar archive (plain or
// gzip-compressed) or '-' for one on standard input; az 2.45 refuses both.
// Such an archive is uploaded as it is (gzip-compressed first when plain),
// without .dockerignore, and --file names the Dockerfile inside it.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cerulean/cerulean/internal/client"
)

// az acr build.
func acrBuildCommand() *command {
	return &command{
		path:         "acr build",
		short:        "Queues a quick build, providing streaming logs for an Azure Container Registry.",
		subscription: true,
		table:        transformRuns,
		args: []*argDef{
			acrRegistryArg(),
			{dest: "source_location", options: []string{"<SOURCE_LOCATION>"}, positional: true, required: true, group: "Positional",
				help: "The local source code directory path (e.g., './src'), or the URL to a git repository (e.g., 'https://github.com/Azure-Samples/acr-build-helloworld-node.git') or a remote tarball (e.g., 'http://server/context.tar.gz'), or the repository of an OCI artifact in an Azure container registry (e.g., 'oci://myregistry.azurecr.io/myartifact:mytag'). Cerulean also takes a local tar archive (.tar, .tar.gz) or '-' for one on the standard input, uploaded as it is (no .dockerignore); az 2.45 refuses both."},
			{dest: "image_names", options: []string{"--image", "-t"}, kind: argAppend,
				help: "The name and tag of the image using the format: '-t repo/image:tag'. Multiple tags are supported by passing -t multiple times."},
			{dest: "docker_file_path", options: []string{"--file", "-f"}, kind: argValue,
				help: "The relative path of the the docker file to the source code root folder. Default to 'Dockerfile'."},
			{dest: "arg", options: []string{"--build-arg"}, kind: argAppend,
				help: "Build argument in '--build-arg name[=value]' format. Multiples supported by passing --build-arg multiple times."},
			{dest: "secret_arg", options: []string{"--secret-build-arg"}, kind: argAppend,
				help: "Secret build argument in '--secret-build-arg name[=value]' format. Multiples supported by passing '--secret-build-arg name[=value]' multiple times."},
			{dest: "no_logs", options: []string{"--no-logs"}, kind: argFlag, help: "Do not show logs after successfully queuing the build."},
			{dest: "no_push", options: []string{"--no-push"}, kind: argFlag, help: "Indicates whether the image built should be pushed to the registry."},
			{dest: "no_wait", options: []string{"--no-wait"}, kind: argFlag,
				help: "Do not wait for the build to complete and return immediately after queuing the build."},
			{dest: "target", options: []string{"--target"}, kind: argValue, help: "The name of the target build stage."},
			argTimeout, argNoFormat, argPlatform, argAuthMode, argAgentPool, argLogTemplate,
			acrGroupArg(false),
		},
		run: runACRBuild,
	}
}

func runACRBuild(i *inv) (any, error) {
	a := i.args
	timeout, err := i.intArg("timeout", "--timeout")
	if err != nil {
		return nil, err
	}
	args := append(i.buildArguments(a.list("arg"), false, true), i.buildArguments(a.list("secret_arg"), true, true)...)
	s, name, group, err := i.taskRegistry(buildNotSupported)
	if err != nil {
		return nil, err
	}
	source, dockerfile := a.str("source_location"), a.str("docker_file_path")
	var sourceLocation string
	fi, statErr := os.Stat(source)
	switch {
	case source == "-":
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		sourceLocation, err = i.uploadStdinContext(s, name, group)
	case statErr == nil && fi.IsDir():
		if dockerfile == "" {
			dockerfile = filepath.Join(source, "Dockerfile")
			i.app.log.infof(logACRBuild, "'--file or -f' is not provided. '%s' is used.", dockerfile)
		}
		if st, err := os.Stat(dockerfile); err != nil || !st.Mode().IsRegular() {
			return nil, errorf("Unable to find '%s'.", dockerfile)
		}
		inTar := i.app.uuidHex() + "_" + filepath.Base(strings.ReplaceAll(dockerfile, `\`, "/"))
		tarPath := filepath.Join(i.app.tempDir(), "build_archive_"+i.app.uuidHex()+".tar.gz")
		sourceLocation, err = i.uploadContextDir(s, name, group, source, tarPath, dockerfile, inTar)
		dockerfile = inTar
	case statErr == nil:
		if !isTarball(source) {
			return nil, errorf("Source location should be a local directory path or remote URL.")
		}
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		sourceLocation, err = i.uploadTarball(s, name, group, source)
	default:
		if dockerfile == "" {
			dockerfile = "Dockerfile"
			i.app.log.infof(logACRBuild, "'--file or -f' is not provided. '%s' is used.", dockerfile)
		}
		if sourceLocation, err = checkRemoteSource(source); err == nil {
			i.app.log.warnf(logACRBuild, "Sending context to registry: %s...", name)
		}
	}
	if err != nil {
		return nil, err
	}

	images := a.list("image_names")
	push := false
	switch {
	case a.flag("no_push"):
	case len(images) > 0:
		push = true
		for _, img := range images {
			if strings.Contains(img, ".Build.ID") {
				i.app.log.warnf(logACRBuild, ".Build.ID is no longer supported as a valid substitution, use .Run.ID instead.")
				break
			}
		}
	default:
		i.app.log.warnf(logACRBuild, "'--image or -t' is not provided. Skipping image push after build.")
	}
	platform, err := runPlatform(a.str("platform"))
	if err != nil {
		return nil, err
	}
	run, err := s.arm().ScheduleBuild(i.ctx, s.subscriptionID(), group, name, client.QuickBuild{
		ImageNames: images, Push: push, DockerFilePath: dockerfile, Target: a.str("target"), Arguments: args,
		Timeout: timeout, Platform: platform, SourceLocation: sourceLocation, AgentPoolName: a.str("agent_pool_name"),
		LogTemplate: a.str("log_template"), AuthMode: a.str("auth_mode"),
	})
	if err != nil {
		return nil, err
	}
	runID := run.Properties.RunID
	i.app.log.warnf(logACRBuild, "Queued a build with ID: %s", runID)
	return i.followRun(s, name, group, run, timeout, logACRBuild)
}

// followRun is the end of acr_build and acr_run: nothing with --no-wait
// (acr_build returns the queued run, but az's core drops the result of any
// command registered with supports_no_wait when --no-wait is given), the
// finished run with --no-logs, else the log.
func (i *inv) followRun(s *session, name, group string, run client.Run, timeout *int, logName string) (any, error) {
	if i.args.flag("no_wait") {
		return nil, nil
	}
	i.app.log.warnf(logName, "Waiting for an agent...")
	if i.args.flag("no_logs") {
		return i.waitForRun(s, name, group, run.Properties.RunID)
	}
	return nil, i.streamRunLogs(s, name, group, run.Properties.RunID, timeout, true)
}

// uploadContextDir is upload_source_code for a local directory: pack to
// tarPath, upload, delete.
func (i *inv) uploadContextDir(s *session, name, group, dir, tarPath, dockerfile, inTar string) (string, error) {
	defer func() {
		i.app.log.debugf(logACRBuild, "Deleting the archived source code from '%s'...", tarPath)
		_ = os.Remove(tarPath)
	}()
	f, err := os.OpenFile(tarPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", &cliError{msg: err.Error()}
	}
	defer func() { _ = f.Close() }()
	bw := bufio.NewWriterSize(f, 1<<20)
	warnf := func(format string, args ...any) { i.app.log.warnf(logACRPack, format, args...) }
	debugf := func(format string, args ...any) { i.app.log.debugf(logACRPack, format, args...) }
	if err := packContext(bw, dir, dockerfile, inTar, warnf, debugf); err != nil {
		return "", &cliError{msg: err.Error()}
	}
	if err := bw.Flush(); err != nil {
		return "", &cliError{msg: err.Error()}
	}
	return i.uploadArchive(s, name, group, f, tarPath)
}

// uploadArchive is the rest of upload_source_code: the upload URL, the
// upload, and the size az reports; it returns the relative path the run
// request names.
func (i *inv) uploadArchive(s *session, name, group string, f *os.File, path string) (string, error) {
	st, err := f.Stat()
	if err != nil {
		return "", &cliError{msg: err.Error()}
	}
	i.app.log.warnf(logACRPack, "Uploading archived source code from '%s'...", path)
	up, err := s.arm().GetBuildSourceUploadURL(i.ctx, s.subscriptionID(), group, name)
	if err != nil {
		msg, _, _ := describeError(err)
		return "", errorf("Failed to get a SAS URL to upload context. Error: %s", msg)
	}
	if up.UploadURL == "" {
		return "", errorf("Failed to get a SAS URL to upload context.")
	}
	blob, err := i.blobClient(up.UploadURL)
	if err != nil {
		return "", err
	}
	if err := blob.Upload(i.ctx, f, st.Size()); err != nil {
		return "", err
	}
	i.app.log.warnf(logACRPack, "Sending context (%s) to registry: %s...", describeSize(st.Size()), name)
	return up.RelativePath, nil
}

// uploadTarball uploads a local tar archive (gzip-compressed first when
// it is not).
func (i *inv) uploadTarball(s *session, name, group, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", &cliError{msg: err.Error()}
	}
	defer func() { _ = f.Close() }()
	if isGzip(f) {
		return i.uploadArchive(s, name, group, f, path)
	}
	return i.uploadCompressed(s, name, group, f)
}

// uploadStdinContext uploads the tar archive on standard input.
func (i *inv) uploadStdinContext(s *session, name, group string) (string, error) {
	br := bufio.NewReaderSize(i.app.stdin, 1<<16)
	head, _ := br.Peek(512)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		tmp, err := os.CreateTemp(i.app.tempDir(), "build_archive_*.tar.gz")
		if err != nil {
			return "", &cliError{msg: err.Error()}
		}
		defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
		if _, err := io.Copy(tmp, br); err != nil {
			return "", &cliError{msg: err.Error()}
		}
		return i.uploadArchive(s, name, group, tmp, tmp.Name())
	case isTarHeader(head):
		return i.uploadCompressed(s, name, group, br)
	}
	return "", errorf("The standard input is not a tar archive (plain or gzip-compressed).")
}

// uploadCompressed gzips a plain tar stream into a temporary file and
// uploads that.
func (i *inv) uploadCompressed(s *session, name, group string, r io.Reader) (string, error) {
	tmp, err := os.CreateTemp(i.app.tempDir(), "build_archive_*.tar.gz")
	if err != nil {
		return "", &cliError{msg: err.Error()}
	}
	defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	gz := gzip.NewWriter(bw)
	if _, err := io.Copy(gz, r); err != nil {
		return "", &cliError{msg: err.Error()}
	}
	if err := gz.Close(); err != nil {
		return "", &cliError{msg: err.Error()}
	}
	if err := bw.Flush(); err != nil {
		return "", &cliError{msg: err.Error()}
	}
	return i.uploadArchive(s, name, group, tmp, tmp.Name())
}

// isTarball reports whether the file at path is a tar archive, plain or
// gzip-compressed (by its first bytes, not its name).
func isTarball(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	if isGzip(f) {
		return true
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	return isTarHeader(head[:n])
}

func isGzip(f *os.File) bool {
	var magic [2]byte
	n, _ := f.ReadAt(magic[:], 0)
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b
}

// isTarHeader: a POSIX (ustar) tar header block.
func isTarHeader(head []byte) bool {
	return len(head) >= 263 && bytes.Equal(head[257:262], []byte("ustar"))
}

var gitSourcePattern = regexp.MustCompile(`\.git(?:#.+)?$`)

// checkRemoteSource is check_remote_source_code: git and OCI sources and
// tarball URLs are passed to the service as they are. (az also sends a
// HEAD to a tarball URL first; this CLI leaves the check to the server.)
func checkRemoteSource(source string) (string, error) {
	lower := strings.ToLower(source)
	switch {
	case strings.HasPrefix(lower, "git@"), strings.HasPrefix(lower, "git://"), strings.HasPrefix(lower, "oci://"):
		return source, nil
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "github.com/"):
		vsts := strings.Contains(lower, "visualstudio.com") || strings.Contains(lower, "dev.azure.com")
		if vsts || gitSourcePattern.MatchString(lower) || !strings.HasPrefix(lower, "github.com/") {
			return source, nil
		}
	}
	return "", errorf("'%s' doesn't exist.", source)
}

// describeSize formats n as az's "Sending context" line does.
func describeSize(n int64) string {
	size := float64(n)
	unit := "GiB"
	for _, u := range []string{"Bytes", "KiB", "MiB", "GiB"} {
		if size < 1024 {
			unit = u
			break
		}
		size /= 1024
	}
	return fmt.Sprintf("%.3f %s", size, unit)
}
