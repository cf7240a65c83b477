package cli

// az acr repository show and update (acr/repository.py
// _acr_repository_attributes_helper): the attributes of a repository
// (/acr/v1/<repo>), of a tag (--image repo:tag → /_tags/<tag>) or of a
// manifest (--image repo@digest → /_manifests/<digest>), read or patched.

import (
	"encoding/json"
	"net/http"

	"github.com/cerulean/cerulean/internal/client"
)

// az acr repository show (a show command: 404 exits 3).
func acrRepositoryShowCommand() *command {
	return &command{
		path:         "acr repository show",
		short:        "Get the attributes of a repository or image in an Azure Container Registry.",
		subscription: true,
		show:         true,
		args:         repoArgs(repoRepositoryArg, repoImageArg),
		run: func(i *inv) (any, error) {
			return i.repositoryAttributes(http.MethodGet, nil, permMetadataRead)
		},
	}
}

// attributesUpdate is the PATCH body, keys in az's order.
type attributesUpdate struct {
	DeleteEnabled *bool `json:"deleteEnabled,omitempty"`
	ListEnabled   *bool `json:"listEnabled,omitempty"`
	ReadEnabled   *bool `json:"readEnabled,omitempty"`
	WriteEnabled  *bool `json:"writeEnabled,omitempty"`
}

func triStateArg(dest, option, help string) *argDef {
	return &argDef{dest: dest, options: []string{option}, kind: argTriState, choices: []string{"false", "true"}, help: help}
}

// az acr repository update: without any flag it reads, like show.
func acrRepositoryUpdateCommand() *command {
	return &command{
		path:         "acr repository update",
		short:        "Update the attributes of a repository or image in an Azure Container Registry.",
		subscription: true,
		args: repoArgs(repoRepositoryArg, repoImageArg,
			triStateArg("delete_enabled", "--delete-enabled", "Indicates whether delete operation is allowed."),
			triStateArg("list_enabled", "--list-enabled", "Indicates whether this item shows in list operation results."),
			triStateArg("read_enabled", "--read-enabled", "Indicates whether read operation is allowed."),
			triStateArg("write_enabled", "--write-enabled", "Indicates whether write or delete operation is allowed.")),
		run: func(i *inv) (any, error) {
			var body attributesUpdate
			flag := func(dest string) *bool {
				if !i.args.has(dest) {
					return nil
				}
				v := i.args.flag(dest)
				return &v
			}
			body.DeleteEnabled, body.ListEnabled = flag("delete_enabled"), flag("list_enabled")
			body.ReadEnabled, body.WriteEnabled = flag("read_enabled"), flag("write_enabled")
			if body == (attributesUpdate{}) {
				return i.repositoryAttributes(http.MethodGet, nil, permMetadataRead)
			}
			return i.repositoryAttributes(http.MethodPatch, body, permMetaWriteMetaRd)
		},
	}
}

// repositoryAttributes reads or patches the attributes --repository or
// --image names.
func (i *inv) repositoryAttributes(method string, body any, permission string) (any, error) {
	repository, tag, digest, err := i.repositoryOrImage()
	if err != nil {
		return nil, err
	}
	d, r, cred, err := i.repoAccess(repository, permission)
	if err != nil {
		return nil, err
	}
	path, index := repoPath("/acr/v1/", repository), ""
	switch {
	case tag != "":
		path, index = repoPath("/acr/v1/", repository, "_tags", tag), "tag"
	case digest != "":
		path, index = repoPath("/acr/v1/", repository, "_manifests", digest), "manifest"
	}
	return d.commandResult(r, cred, method, path, body, index)
}

// getManifestDigest is _get_manifest_digest: the digest a tag points at.
func (d *acrData) getManifestDigest(r *acrRegistry, cred client.RegistryCredential, repository, tag string) (string, error) {
	result, _, err := d.request(r, cred, http.MethodGet, repoPath("/acr/v1/", repository, "_tags", tag), nil, nil, "tag")
	if err != nil {
		return "", err
	}
	var t struct {
		Digest string `json:"digest"`
	}
	if result == nil || json.Unmarshal(result, &t) != nil || t.Digest == "" {
		return "", errorf("Could not get the manifest digest for image '%s:%s'.", repository, tag)
	}
	return t.Digest, nil
}
