package cli

// az acr import (acr/import.py). Azure imports on the server (ARM POST
// …/importImage); Cerulean's az copies on the client instead: it reads the
// source — a registry reference (a Cerulean registry of the subscription,
// reached through CERULEAN_ENDPOINT with an ACR token, or any other
// registry, anonymously or with --username/--password), or, as an
// extension, a local OCI image layout (oci-layout:DIR[:TAG], or a
// directory holding an oci-layout file) or a docker-archive tarball
// (docker-archive:FILE[:REPO:TAG]) — and pushes every platform of it into
// the target with an access token for repository:<target>:pull,push.
// Progress goes to stderr; like az, nothing is printed on success.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/client"
)

// import.py's messages.
const (
	importSourceRegistryNotFound = "The source container registry can not be found in the current subscription. Please provide a valid address and/or credentials."
	importSourceNotFound         = "Source cannot be found. Please provide a valid image and source registry or a fully qualified source."
	importLoginServerNotValid    = "Login server of the registry is not valid because it is not a fully qualified domain name."
	importCredentialsInvalid     = "Authentication failed. Please provide password."
)

// Local source prefixes (skopeo's transport names).
const (
	sourceOCILayout     = "oci-layout:"
	sourceDockerArchive = "docker-archive:"
)

// az acr import.
func acrImportCommand() *command {
	return &command{
		path:         "acr import",
		short:        "Imports an image to an Azure Container Registry from another Container Registry. Import removes the need to docker pull, docker tag, docker push.",
		subscription: true,
		args: []*argDef{
			acrNameArg(),
			{dest: "source_image", options: []string{"--source"}, kind: argValue, required: true,
				help: "Source image name or fully qualified source containing the registry login server. If `--registry` is used, `--source` will always be interpreted as a source image, even if it contains the login server. Cerulean also reads local images: oci-layout:DIR[:TAG] (or a directory holding an OCI image layout) and docker-archive:FILE[:REPOSITORY:TAG]."},
			{dest: "source_registry", options: []string{"--registry", "-r"}, kind: argValue,
				help: "The source Azure container registry. This can be name, login server or resource ID of the source registry."},
			{dest: "source_registry_username", options: []string{"--username", "-u"}, kind: argValue, help: "The username of source container registry."},
			{dest: "source_registry_password", options: []string{"--password", "-p"}, kind: argValue, help: "The password of source container registry."},
			{dest: "target_tags", options: []string{"--image", "-t"}, kind: argAppend,
				help: "The name and tag of the image using the format: '-t repo/image:tag'. Multiple tags are supported by passing -t multiple times."},
			{dest: "repository", options: []string{"--repository"}, kind: argAppend,
				help: "The repository name for a manifest-only copy of images. Multiple copies supported by passing --repository multiple times."},
			{dest: "force", options: []string{"--force"}, kind: argFlag, help: "Overwrite the existing tag of the image to be imported."},
			{dest: "no_wait", options: []string{"--no-wait"}, kind: argFlag,
				help: "Do not wait for the import to complete and return immediately after queuing the import. (Cerulean imports on the client and always waits.)"},
			acrGroupArg(false),
		},
		run: runACRImport,
	}
}

func runACRImport(i *inv) (any, error) {
	a := i.args
	source, username, password := a.str("source_image"), a.str("source_registry_username"), a.str("source_registry_password")
	if username != "" && password == "" {
		return nil, errorf("%s", importCredentialsInvalid)
	}
	// Azure imports on the server, an ARM action (importImage) that needs
	// rights on the registry resource. Cerulean copies on the client through
	// the data plane, so what counts is the right to push: the target is
	// resolved like the other data-plane commands, falling back to the
	// login server when the caller cannot see the registry in ARM (an
	// AcrPush principal), and the token service grants push or refuses it.
	d, err := i.acrData()
	if err != nil {
		return nil, err
	}
	target, err := d.registry()
	if err != nil {
		return nil, err
	}
	if a.flag("no_wait") {
		i.app.log.debugf(logACRImport, "--no-wait is ignored: the import runs in this process.")
	}
	src, sourceImage, err := d.openImportSource(source, a.str("source_registry"), username, password)
	if err != nil {
		return nil, err
	}
	tags, repos := a.list("target_tags"), a.list("repository")
	if len(tags) == 0 && len(repos) == 0 {
		if sourceImage == "" {
			return nil, errorf("Name the target with --image REPOSITORY:TAG (or --repository) to import a local image.")
		}
		// az: the source image, without a digest, is the target.
		if at := strings.Index(sourceImage, "@"); at > 0 {
			sourceImage = sourceImage[:at]
		}
		tags = []string{sourceImage}
	}
	targets, err := importTargets(tags, repos)
	if err != nil {
		return nil, err
	}
	// Every target is authorised and checked before anything is written.
	copies := make([]client.CopyTarget, 0, len(targets))
	for _, t := range targets {
		cred, err := d.credentials(target, "", "", credRequest{repository: t.repository, permission: "pull,push"})
		if err != nil {
			return nil, err
		}
		ct := client.CopyTarget{LoginServer: target.loginServer(), Repository: t.repository, Transport: target.data.Transport(),
			Auth: registryAuth(cred), UserAgent: importUserAgent, Tags: t.tags, Force: a.flag("force")}
		if err := client.CheckTargetTags(i.ctx, src, ct); err != nil {
			return nil, err
		}
		ct.Force = true // checked above
		copies = append(copies, ct)
	}
	progress := newImportProgress(i.app)
	for _, ct := range copies {
		err := client.CopyImage(i.ctx, src, ct, progress.event)
		progress.finish()
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

const importUserAgent = "AZURECLI/" + Version + " (Cerulean)"

// registryAuth turns az's pair into go-containerregistry credentials.
func registryAuth(c client.RegistryCredential) client.RegistryAuth {
	if c.Username == client.EmptyGUID {
		return client.RegistryAuth{Token: c.Password}
	}
	return client.RegistryAuth{Username: c.Username, Password: c.Password}
}

// importTarget is one repository to copy into and its tags (none: by
// digest only).
type importTarget struct {
	repository string
	tags       []string
}

// importTargets groups --image REPO[:TAG] by repository (a missing tag is
// latest) and adds the --repository copies.
func importTargets(images, repos []string) ([]importTarget, error) {
	var out []importTarget
	index := map[string]int{}
	for _, img := range images {
		repo, tag := img, "latest"
		if c := strings.LastIndexByte(img, ':'); c > strings.LastIndexByte(img, '/') {
			repo, tag = img[:c], img[c+1:]
		}
		if repo == "" || tag == "" || strings.Contains(img, "@") {
			return nil, errorf("Invalid target image '%s': use the format 'repo/image:tag'.", img)
		}
		if n, ok := index[repo]; ok {
			out[n].tags = append(out[n].tags, tag)
			continue
		}
		index[repo] = len(out)
		out = append(out, importTarget{repository: repo, tags: []string{tag}})
	}
	for _, repo := range repos {
		if _, ok := index[repo]; !ok {
			out = append(out, importTarget{repository: repo})
		}
	}
	return out, nil
}

// ---- the source ---------------------------------------------------------------------------------

// openImportSource opens --source; sourceImage is the source's image name
// without its registry (the default target), empty for a local source.
func (d *acrData) openImportSource(source, sourceRegistry, username, password string) (src *client.ImageSource, sourceImage string, err error) {
	if kind, path, ref, ok := localSource(source); ok {
		if sourceRegistry != "" || username != "" || password != "" {
			return nil, "", errorf("--registry, --username and --password apply to registry sources, not to '%s'.", source)
		}
		if kind == sourceDockerArchive {
			src, err = client.OpenArchiveSource(path, ref)
		} else {
			src, err = client.OpenLayoutSource(path, ref)
		}
		return src, "", err
	}
	var loginServer string
	var ours *acrRegistry
	if sourceRegistry != "" {
		if ours, err = d.findRegistry(sourceRegistry); err != nil {
			return nil, "", err
		}
		if ours == nil {
			return nil, "", errorf("%s", importSourceRegistryNotFound)
		}
		loginServer = ours.loginServer()
		prefix := loginServer + "/"
		if strings.HasPrefix(strings.ToLower(source), strings.ToLower(prefix)) {
			d.i.app.log.warnf(logACRImport, "The login server name of \"%s\" in the \"--source\" argument will be ignored as \"--registry\" already supplies the same information", loginServer)
			source = source[len(prefix):]
		}
		sourceImage = source
	} else {
		slash := strings.IndexByte(source, '/')
		if slash <= 0 {
			return nil, "", errorf("%s", importSourceNotFound)
		}
		loginServer, sourceImage = source[:slash], source[slash+1:]
		if !strings.Contains(loginServer, ".") {
			return nil, "", errorf("%s", importLoginServerNotValid)
		}
		if ours, err = d.findRegistry(loginServer); err != nil {
			return nil, "", err
		}
		if ours == nil && d.isCeruleanLoginServer(loginServer) {
			// A Cerulean registry the caller cannot read in ARM (an AcrPull
			// principal): still reached through CERULEAN_ENDPOINT, and its
			// token server decides.
			first, _, _ := strings.Cut(loginServer, ".")
			if ours, err = d.open(first, "", strings.ToLower(loginServer), nil); err != nil {
				return nil, "", err
			}
			ours.notFound = fmt.Sprintf("The registry '%s' is not in subscription '%s'.", loginServer, d.s.subscriptionID())
		}
	}
	rs := client.RemoteSource{Reference: loginServer + "/" + sourceImage, UserAgent: importUserAgent,
		Auth: client.RegistryAuth{Username: username, Password: password}}
	if ours == nil {
		rs.Transport = externalTransport()
	} else {
		rs.Reference = ours.loginServer() + "/" + sourceImage
		rs.Transport = ours.data.Transport()
		if password == "" {
			repo, _, _ := strings.Cut(sourceImage, "@")
			if c := strings.LastIndexByte(repo, ':'); c > strings.LastIndexByte(repo, '/') {
				repo = repo[:c]
			}
			cred, err := d.credentials(ours, "", "", credRequest{repository: repo, permission: "pull"})
			if err != nil {
				return nil, "", err
			}
			rs.Auth = registryAuth(cred)
		}
	}
	src, err = client.OpenRemoteSource(d.i.ctx, rs)
	return src, sourceImage, err
}

// findRegistry is get_registry_from_name_or_login_server: a registry of
// the subscription by resource id, name or login server; nil when none.
func (d *acrData) findRegistry(nameOrServer string) (*acrRegistry, error) {
	i, s := d.i, d.s
	if strings.HasPrefix(nameOrServer, "/") {
		group, name := resourceGroupAndName(nameOrServer)
		if group == "" || name == "" {
			return nil, nil
		}
		r, err := s.arm().GetRegistry(i.ctx, s.subscriptionID(), group, name)
		if err != nil {
			return nil, err
		}
		return d.open(name, group, r.Properties.LoginServer, &r)
	}
	all, err := s.arm().ListRegistries(i.ctx, s.subscriptionID(), "")
	if err != nil {
		return nil, err
	}
	var found *arm.Registry
	for k := range all {
		if strings.EqualFold(all[k].Name, nameOrServer) || strings.EqualFold(all[k].Properties.LoginServer, nameOrServer) {
			found = &all[k]
			break
		}
	}
	if found == nil {
		return nil, nil
	}
	group, _ := resourceGroupAndName(found.ID)
	return d.open(found.Name, group, found.Properties.LoginServer, found)
}

// isCeruleanLoginServer reports whether host[:port] is under the
// registry domain of this Cerulean (registrySuffix without its port).
func (d *acrData) isCeruleanLoginServer(loginServer string) bool {
	host := loginHost(strings.ToLower(loginServer))
	suffix := loginHost(strings.TrimPrefix(d.i.app.registrySuffix(d.i.ctx), "."))
	return strings.HasSuffix(host, "."+suffix)
}

// resourceGroupAndName reads …/resourceGroups/{g}/providers/…/{name}.
func resourceGroupAndName(id string) (group, name string) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	for k := 0; k+1 < len(parts); k++ {
		if strings.EqualFold(parts[k], "resourceGroups") {
			group = parts[k+1]
		}
	}
	if len(parts) > 0 {
		name = parts[len(parts)-1]
	}
	return group, name
}

// localSource recognises the local forms of --source: oci-layout:DIR[:TAG]
// and docker-archive:FILE[:REPOSITORY:TAG] (split at the first colon, as
// skopeo does, so the path cannot hold one), or a bare directory that
// holds an OCI image layout.
func localSource(source string) (kind, path, ref string, ok bool) {
	for _, prefix := range []string{sourceOCILayout, sourceDockerArchive} {
		if rest, found := strings.CutPrefix(source, prefix); found {
			path, ref, _ = strings.Cut(rest, ":")
			return prefix, path, ref, true
		}
	}
	if fi, err := os.Stat(filepath.Join(source, "oci-layout")); err == nil && fi.Mode().IsRegular() {
		return sourceOCILayout, source, "", true
	}
	return "", "", "", false
}

// externalTransport reaches registries outside Cerulean: system roots and
// the environment's proxy settings.
func externalTransport() http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	return tr
}

// ---- progress ---------------------------------------------------------------------------------------

// importProgress prints the copy on stderr: one line per blob and
// manifest; on a terminal the blob being sent is redrawn in place. It is
// silent with --only-show-errors.
type importProgress struct {
	w     io.Writer
	tty   bool
	quiet bool
	now   func() time.Time
	last  time.Time
	open  bool // a progress line is being redrawn
}

func newImportProgress(a *app) *importProgress {
	return &importProgress{w: a.stderr, tty: isTerminal(a.stderr), quiet: a.log.level < levelWarning, now: a.now}
}

func (p *importProgress) event(ev client.CopyEvent) {
	if p.quiet {
		return
	}
	short := shortDigest(ev.Digest)
	switch ev.Kind {
	case client.CopyBlobProgress:
		if !p.tty || p.now().Sub(p.last) < 100*time.Millisecond {
			return
		}
		p.last = p.now()
		fmt.Fprintf(p.w, "\r\033[KCopying %s %s %s / %s", ev.Object, short, byteSize(ev.Done), byteSize(ev.Size))
		p.open = true
		return
	case client.CopyBlobDone:
		p.line("Copying %s %s done %s", ev.Object, short, byteSize(ev.Size))
	case client.CopyBlobExists:
		p.line("Copying %s %s skipped: already exists", ev.Object, short)
	case client.CopyBlobForeign:
		p.line("Skipping foreign layer %s", short)
	case client.CopyManifestDone:
		if ev.Platform != "" {
			p.line("Writing manifest %s (%s)", ev.Ref, ev.Platform)
		} else {
			p.line("Writing manifest %s", ev.Ref)
		}
	}
}

func (p *importProgress) line(format string, args ...any) {
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// finish ends a redrawn line left open by a failure.
func (p *importProgress) finish() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

// shortDigest is algorithm:first-12-hex, as skopeo and docker show blobs.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}

// byteSize formats a size with binary units: 512 B, 1.5 KiB, 12.3 MiB.
func byteSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}
