package cli

// az acr repository list|show-tags|show-manifests and what every
// repository command shares (acr/repository.py, _docker_utils.py
// request_data_from_registry): arguments, image-name parsing, the
// registry request with az's status handling, retries and messages, and
// az's Link-following pagination.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/client"
)

// Repository permissions az asks tokens for (RepoAccessTokenPermission).
const (
	permMetadataRead     = "metadata_read"
	permMetaWriteMetaRd  = "metadata_write,metadata_read"
	permDelete           = "delete"
	permDeleteMetaRead   = "delete,metadata_read"
	registryPageSize     = 100 // DEFAULT_PAGINATION
	registryRetries      = 3
	registryRetryBackoff = 5 * time.Second
	registryMaxPages     = 100000 // a guard against a server that never stops paging
)

// orderbyParams maps --orderby to the API's values (ORDERBY_PARAMS).
var orderbyParams = map[string]string{"time_asc": "timeasc", "time_desc": "timedesc"}

// Arguments of the 'acr repository' context (_params.py).
var (
	repoRepositoryArg = &argDef{dest: "repository", options: []string{"--repository"}, kind: argValue, help: "The name of the repository."}
	repoImageArg      = &argDef{dest: "image", options: []string{"--image", "-t"}, kind: argValue,
		help: "The name of the image. May include a tag in the format 'name:tag' or digest in the format 'name@digest'."}
	repoTopArg     = &argDef{dest: "top", options: []string{"--top"}, kind: argValue, help: "Limit the number of items in the results."}
	repoOrderbyArg = &argDef{dest: "orderby", options: []string{"--orderby"}, kind: argValue, choices: []string{"time_asc", "time_desc"},
		help: "Order the items in the results. Default to alphabetical order of names."}
	repoDetailArg = &argDef{dest: "detail", options: []string{"--detail"}, kind: argFlag, help: "Show detailed information."}
)

// repoArgs are a repository command's arguments: --name, the given ones,
// then the registry-access ones az adds to every command of the group.
func repoArgs(specific ...*argDef) []*argDef {
	out := append([]*argDef{acrNameArg()}, specific...)
	return append(out, acrIgnoredGroupArg, acrSuffixArg, acrUsernameArg, acrPasswordArg)
}

// ---- access -------------------------------------------------------------------------------

// repoAccess is get_access_credentials: the registry of --name and the
// credential for the repository (catalog when empty) and permission.
func (i *inv) repoAccess(repository, permission string) (*acrData, *acrRegistry, client.RegistryCredential, error) {
	d, err := i.acrData()
	if err != nil {
		return nil, nil, client.RegistryCredential{}, err
	}
	r, err := d.registry()
	if err != nil {
		return nil, nil, client.RegistryCredential{}, err
	}
	cred, err := d.credentials(r, i.args.str("username"), i.args.str("password"),
		credRequest{repository: repository, permission: permission})
	if err != nil {
		return nil, nil, client.RegistryCredential{}, err
	}
	return d, r, cred, nil
}

// repoPath joins /acr/v1/ or /v2/ paths: repository names keep their
// slashes, as az formats them into the URL.
func repoPath(prefix, repository string, rest ...string) string {
	segs := strings.Split(repository, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	p := prefix + strings.Join(segs, "/")
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// ---- requests (request_data_from_registry) ---------------------------------------------------

// request sends one data-plane call the way az does: 200 gives the body
// (or its resultIndex member) and the Link header; 201/202 a body if any;
// 204 nothing; 401, 404, 405 and 409 fail at once; any other status or a
// connection failure is retried (three attempts, five seconds apart).
func (d *acrData) request(r *acrRegistry, cred client.RegistryCredential, method, path string, q url.Values, body any, resultIndex string) (json.RawMessage, string, error) {
	ctx := d.i.ctx
	var last string
	for attempt := 1; attempt <= registryRetries; attempt++ {
		resp, err := r.data.Do(ctx, method, path, q, cred, body)
		if resp == nil {
			if ctx.Err() != nil {
				return nil, "", ctx.Err()
			}
			last, _, _ = describeError(err)
		} else {
			switch resp.StatusCode {
			case http.StatusOK:
				result, err := pickResult(resp.Body, resultIndex)
				if err != nil {
					return nil, "", errorf("%v", err)
				}
				return result, resp.Header.Get("Link"), nil
			case http.StatusCreated, http.StatusAccepted:
				result, err := pickResult(resp.Body, resultIndex)
				if err != nil {
					d.i.app.log.debugf(logACRDocker, "Response is empty or is not a valid json. Exception: %v", err)
				}
				return result, "", nil
			case http.StatusNoContent:
				return nil, "", nil
			case http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusConflict:
				return nil, "", &cliError{msg: registryErrorMessage(registryStatusMessages[resp.StatusCode], resp, d.i.app.now()), status: resp.StatusCode}
			default:
				last = registryErrorMessage(fmt.Sprintf("Could not %s the requested data.", strings.ToLower(method)), resp, d.i.app.now())
			}
		}
		d.i.app.log.debugf(logACRDocker, "Retrying %d with exception %s", attempt, last)
		if err := d.i.app.sleep(ctx, registryRetryBackoff); err != nil {
			return nil, "", err
		}
	}
	return nil, "", errorf("%s", last)
}

// commandResult is request for what a command prints: the result, or
// nothing at all when the response had none.
func (d *acrData) commandResult(r *acrRegistry, cred client.RegistryCredential, method, path string, body any, resultIndex string) (any, error) {
	result, _, err := d.request(r, cred, method, path, nil, body, resultIndex)
	if err != nil || result == nil {
		return nil, err
	}
	return result, nil
}

var registryStatusMessages = map[int]string{
	http.StatusUnauthorized:     "Authentication required.",
	http.StatusNotFound:         "The requested data does not exist.",
	http.StatusMethodNotAllowed: "This operation is not supported.",
	http.StatusConflict:         "Failed to request data due to a conflict.",
}

// pickResult is response.json()[result_index] (or the whole body); an
// empty body is no result.
func pickResult(body []byte, index string) (json.RawMessage, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, errors.New("the response is empty")
	}
	if index == "" {
		if !json.Valid(body) {
			return nil, errors.New("the response is not valid JSON")
		}
		return json.RawMessage(body), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("the response is not a JSON object: %w", err)
	}
	v, ok := m[index]
	if !ok {
		return nil, fmt.Errorf("the response has no %q", index)
	}
	return v, nil
}

// registryErrorMessage is parse_error_message: "Error: <the server's
// errors[0].message>" (or the default), ending with a period, then the
// correlation id when the response has one, the whole then prefixed with
// the time (acr/_format.py add_timestamp: str(datetime.utcnow())).
func registryErrorMessage(def string, resp *client.RegistryResponse, now time.Time) string {
	msg := def
	var env struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(resp.Body, &env) == nil && len(env.Errors) > 0 && env.Errors[0].Message != "" {
		msg = "Error: " + env.Errors[0].Message
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	if id := resp.Header.Get("x-ms-correlation-request-id"); id != "" {
		msg = fmt.Sprintf("%s %s Correlation ID: %s.", pyDatetime(now), msg, id)
	}
	return msg
}

// list is _obtain_data_from_registry: pages of n items (100, or what is
// left of --top), each next page asked with the parameters of the Link
// header's target; top < 0 means no limit.
func (d *acrData) list(r *acrRegistry, cred client.RegistryCredential, path, resultIndex string, top int, orderby string) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	params := url.Values{"n": {strconv.Itoa(registryPageSize)}}
	if orderby != "" {
		params.Set("orderby", orderbyParams[orderby])
	}
	for page := 0; ; page++ {
		if page >= registryMaxPages {
			return nil, errorf("The registry '%s' returned more than %d pages.", r.loginServer(), registryMaxPages)
		}
		if top >= 0 {
			n := min(top, registryPageSize)
			params.Set("n", strconv.Itoa(n))
			top -= n
		}
		result, link, err := d.request(r, cred, http.MethodGet, path, params, nil, resultIndex)
		if err != nil {
			return nil, err
		}
		var items []json.RawMessage
		if len(result) > 0 && string(result) != "null" {
			if err := json.Unmarshal(result, &items); err != nil {
				return nil, errorf("The registry returned an unexpected %s: %v", resultIndex, err)
			}
		}
		out = append(out, items...)
		if top == 0 {
			break
		}
		next, ok := client.NextParams(link)
		if !ok {
			break
		}
		params = next
	}
	return out, nil
}

// topArg is --top (type=int): -1 when absent.
func (i *inv) topArg() (int, error) {
	if !i.args.has("top") {
		return -1, nil
	}
	v := i.args.str("top")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, &usageError{msg: fmt.Sprintf("argument --top: invalid int value: %s", pyRepr(v))}
	}
	if n < 0 {
		// Python's range arithmetic would make a negative page size.
		n = 0
	}
	return n, nil
}

// ---- image names --------------------------------------------------------------------------

// parseImageName is _parse_image_name: "repo@digest" (when allowed),
// "repo:tag", or "repo" meaning "repo:latest".
func parseImageName(image string, allowDigest bool) (repository, tag, digest string, err error) {
	if allowDigest && strings.Contains(image, "@") {
		if parts := strings.Split(image, "@"); len(parts) == 2 {
			return parts[0], "", parts[1], nil
		}
	}
	if !strings.Contains(image, ":") {
		return image, "latest", "", nil
	}
	if parts := strings.Split(image, ":"); len(parts) == 2 {
		return parts[0], parts[1], "", nil
	}
	if allowDigest {
		return "", "", "", errorf("The name of the image to delete may include a tag in the format 'name:tag' or digest in the format 'name@digest'.")
	}
	return "", "", "", errorf("The name of the image may include a tag in the format 'name:tag'.")
}

// repositoryOrImage is _validate_parameters: exactly one of the two,
// --image split into its repository and its tag or digest.
func (i *inv) repositoryOrImage() (repository, tag, digest string, err error) {
	repository, image := i.args.str("repository"), i.args.str("image")
	if (repository == "") == (image == "") {
		return "", "", "", errorf("Usage error: --image IMAGE | --repository REPOSITORY")
	}
	if image == "" {
		return repository, "", "", nil
	}
	return parseImageName(image, true)
}

// ---- list, show-tags, show-manifests ----------------------------------------------------------

// az acr repository list.
func acrRepositoryListCommand() *command {
	return &command{
		path:         "acr repository list",
		short:        "List repositories in an Azure Container Registry.",
		subscription: true,
		args:         repoArgs(repoTopArg),
		run: func(i *inv) (any, error) {
			top, err := i.topArg()
			if err != nil {
				return nil, err
			}
			d, r, cred, err := i.repoAccess("", "")
			if err != nil {
				return nil, err
			}
			return d.list(r, cred, "/v2/_catalog", "repositories", top, "")
		},
	}
}

// listRepositoryItems lists /acr/v1/<--repository>/<child> (_tags or
// _manifests) with --top and --orderby; resultIndex is the list's key.
func (i *inv) listRepositoryItems(child, resultIndex string) ([]json.RawMessage, error) {
	top, err := i.topArg()
	if err != nil {
		return nil, err
	}
	repository := i.args.str("repository")
	d, r, cred, err := i.repoAccess(repository, permMetadataRead)
	if err != nil {
		return nil, err
	}
	return d.list(r, cred, repoPath("/acr/v1/", repository, child), resultIndex, top, i.args.str("orderby"))
}

// az acr repository show-tags: tag names, or the tag attributes with
// --detail.
func acrRepositoryShowTagsCommand() *command {
	return &command{
		path:         "acr repository show-tags",
		short:        "Show tags for a repository in an Azure Container Registry.",
		subscription: true,
		args:         repoArgs(withRequired(repoRepositoryArg), repoTopArg, repoOrderbyArg, repoDetailArg),
		run: func(i *inv) (any, error) {
			items, err := i.listRepositoryItems("_tags", "tags")
			if err != nil || i.args.flag("detail") {
				return items, err
			}
			names := make([]any, 0, len(items))
			for _, it := range items {
				var tag struct {
					Name any `json:"name"`
				}
				if err := json.Unmarshal(it, &tag); err != nil {
					return nil, errorf("The registry returned an unexpected tag: %v", err)
				}
				names = append(names, tag.Name)
			}
			return names, nil
		},
	}
}

// manifestSummary is show-manifests' "old schema" item.
type manifestSummary struct {
	Digest    any `json:"digest"`
	Tags      any `json:"tags"`
	Timestamp any `json:"timestamp"`
}

// az acr repository show-manifests (deprecated for 'acr manifest
// list-metadata', as az 2.45 names it): digest, tags and timestamp of each manifest, or the
// manifest attributes with --detail.
func acrRepositoryShowManifestsCommand() *command {
	return &command{
		path:         "acr repository show-manifests",
		short:        "Show manifests of a repository in an Azure Container Registry.",
		subscription: true,
		args:         repoArgs(withRequired(repoRepositoryArg), repoTopArg, repoOrderbyArg, repoDetailArg),
		run: func(i *inv) (any, error) {
			i.app.log.warnf(logKnack, "This command has been deprecated and will be removed in a future release. Use 'acr manifest list-metadata' instead.")
			items, err := i.listRepositoryItems("_manifests", "manifests")
			if err != nil || i.args.flag("detail") {
				return items, err
			}
			out := make([]manifestSummary, 0, len(items))
			for _, it := range items {
				var m map[string]any
				if err := json.Unmarshal(it, &m); err != nil {
					return nil, errorf("The registry returned an unexpected manifest: %v", err)
				}
				s := manifestSummary{Digest: "", Tags: []any{}, Timestamp: ""}
				if v, ok := m["digest"]; ok {
					s.Digest = v
				}
				if v, ok := m["tags"]; ok {
					s.Tags = v
				}
				if v, ok := m["lastUpdateTime"]; ok {
					s.Timestamp = v
				}
				out = append(out, s)
			}
			return out, nil
		},
	}
}

// withRequired is a copy of an argument marked required.
func withRequired(a *argDef) *argDef {
	c := *a
	c.required = true
	return &c
}
