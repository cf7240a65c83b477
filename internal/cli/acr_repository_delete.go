package cli

// az acr repository delete and untag (acr/repository.py): delete a whole
// repository (DELETE /acr/v1/<repo>, printing what went), a manifest with
// every tag on it (DELETE /v2/<repo>/manifests/<digest>, after saying
// which images go), or remove one tag (DELETE /acr/v1/<repo>/_tags/<tag>).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/internal/client"
)

// az acr repository delete.
func acrRepositoryDeleteCommand() *command {
	return &command{
		path:         "acr repository delete",
		short:        "Delete a repository or image in an Azure Container Registry.",
		subscription: true,
		args:         append(repoArgs(repoRepositoryArg, repoImageArg), argYes),
		run:          runACRRepositoryDelete,
	}
}

func runACRRepositoryDelete(i *inv) (any, error) {
	repository, tag, digest, err := i.repositoryOrImage()
	if err != nil {
		return nil, err
	}
	d, r, cred, err := i.repoAccess(repository, permDeleteMetaRead)
	if err != nil {
		return nil, err
	}
	yes := i.args.flag("yes")
	var path string
	if tag != "" || digest != "" {
		if digest, err = d.confirmManifestDelete(r, cred, repository, tag, digest, yes); err != nil {
			return nil, err
		}
		path = repoPath("/v2/", repository, "manifests", digest)
	} else {
		if err := i.userConfirmation(fmt.Sprintf("Are you sure you want to delete the repository '%s' and all images under it?", repository), yes); err != nil {
			return nil, err
		}
		path = repoPath("/acr/v1/", repository)
	}
	return d.commandResult(r, cred, http.MethodDelete, path, nil, "")
}

// confirmManifestDelete is _delete_manifest_confirmation: resolve the tag
// to its digest, name every tag that goes with it, then warn (--yes) or
// ask.
func (d *acrData) confirmManifestDelete(r *acrRegistry, cred client.RegistryCredential, repository, tag, digest string, yes bool) (string, error) {
	if digest == "" {
		var err error
		if digest, err = d.getManifestDigest(r, cred, repository, tag); err != nil {
			return "", err
		}
	}
	tags, err := d.list(r, cred, repoPath("/acr/v1/", repository, "_tags"), "tags", -1, "")
	if err != nil {
		return "", err
	}
	var images []string
	for _, raw := range tags {
		var t struct {
			Name   any    `json:"name"`
			Digest string `json:"digest"`
		}
		if json.Unmarshal(raw, &t) == nil && t.Digest == digest {
			images = append(images, fmt.Sprintf("'%s:%v'", repository, t.Name))
		}
	}
	msg := fmt.Sprintf("This operation will delete the manifest '%s'", digest)
	if len(images) > 0 {
		msg += " and all the following images: " + strings.Join(images, ", ")
	}
	if yes {
		d.i.app.log.warnf(logACRRepository, "%s", msg)
		return digest, nil
	}
	return digest, d.i.userConfirmation(msg+".\nAre you sure you want to continue?", false)
}

// userConfirmation is azure.cli.core.util.user_confirmation.
func (i *inv) userConfirmation(msg string, yes bool) error {
	if yes {
		return nil
	}
	if !i.app.stdinIsTTY() {
		return errorf("Unable to prompt for confirmation as no tty available. Use --yes.")
	}
	ok, err := i.app.promptYN(msg, "")
	if err != nil {
		return err
	}
	if !ok {
		return errCancelled
	}
	return nil
}

// az acr repository untag.
func acrRepositoryUntagCommand() *command {
	return &command{
		path:         "acr repository untag",
		short:        "Untag an image in an Azure Container Registry.",
		subscription: true,
		args:         repoArgs(withRequired(repoImageArg)),
		run: func(i *inv) (any, error) {
			repository, tag, _, err := parseImageName(i.args.str("image"), false)
			if err != nil {
				return nil, err
			}
			d, r, cred, err := i.repoAccess(repository, permDelete)
			if err != nil {
				return nil, err
			}
			return d.commandResult(r, cred, http.MethodDelete, repoPath("/acr/v1/", repository, "_tags", tag), nil, "")
		},
	}
}
