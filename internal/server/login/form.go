package login

import (
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxFormBody bounds a token request body.
const maxFormBody = 64 << 10

// singleValued are the parameters RFC 6749 §3.2 forbids repeating; a
// repeated one is refused rather than guessed at.
var singleValued = []string{"grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "scope", "resource"}

// readForm reads an application/x-www-form-urlencoded body of at most
// maxFormBody bytes. Query-string parameters are not read: a client secret
// never travels in a URL. A body of another media type is treated as Entra
// treats it, as carrying no parameters. Errors never carry the body or a
// parse error (either could hold part of a secret).
func readForm(r *http.Request) (url.Values, error) {
	if !isFormContent(r.Header.Get("Content-Type")) {
		return url.Values{}, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
	if err != nil {
		return nil, errMalformedRequest.WithMessage("The request body could not be read.")
	}
	if len(body) > maxFormBody {
		return nil, errBodyTooLarge
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errMalformedRequest.WithMessage("The request body is not valid application/x-www-form-urlencoded content.")
	}
	for _, k := range singleValued {
		if len(form[k]) > 1 {
			return nil, errDuplicateParameter.WithMessage("The request body must contain the parameter '%s' only once.", k)
		}
	}
	return form, nil
}

// isFormContent reports whether a Content-Type names form-urlencoded data.
func isFormContent(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.EqualFold(mt, "application/x-www-form-urlencoded")
}

// clientCredentials are the client id and secret of a token request.
type clientCredentials struct {
	id     string
	secret string
}

// readClientCredentials takes the client's credentials from an HTTP Basic
// Authorization header (client_secret_basic) or from the form
// (client_secret_post). Per RFC 6749 §2.3.1 both halves of a Basic header
// are form-urlencoded before base64; they are decoded here. Using both
// methods at once is refused. Only the client id ever appears in an error.
func readClientCredentials(r *http.Request, form url.Values) (clientCredentials, error) {
	if form.Get("client_assertion") != "" || form.Get("client_assertion_type") != "" {
		return clientCredentials{}, errAssertion
	}
	basic, ok, err := basicCredentials(r)
	if err != nil {
		return clientCredentials{}, err
	}
	if !ok {
		return clientCredentials{id: form.Get("client_id"), secret: form.Get("client_secret")}, nil
	}
	if form.Has("client_secret") {
		return clientCredentials{}, errMultipleClientAuth
	}
	if id := form.Get("client_id"); id != "" && id != basic.id {
		return clientCredentials{}, errMultipleClientAuth.WithMessage("The client_id parameter does not match the client authenticated by the Authorization header.")
	}
	return basic, nil
}

// basicCredentials parses an "Authorization: Basic …" header. It reports
// ok=false when the request has no Basic credentials.
func basicCredentials(r *http.Request) (clientCredentials, bool, error) {
	h := r.Header.Get("Authorization")
	const prefix = "basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return clientCredentials{}, false, nil
	}
	malformed := errMalformedRequest.WithMessage("The Authorization header is not valid HTTP Basic credentials.")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return clientCredentials{}, false, malformed
	}
	encID, encSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return clientCredentials{}, false, malformed
	}
	id, err := url.QueryUnescape(encID)
	if err != nil {
		return clientCredentials{}, false, malformed
	}
	secret, err := url.QueryUnescape(encSecret)
	if err != nil {
		return clientCredentials{}, false, malformed
	}
	return clientCredentials{id: id, secret: secret}, true, nil
}
