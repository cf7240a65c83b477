package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/client"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// cliError is what az's CLIError is: printed as "ERROR: msg", then the
// recommendations, exit code 1. status 404 makes a show command exit 3
// (azure.cli.core.commands.arm.show_exception_handler).
type cliError struct {
	msg             string
	recommendations []string
	status          int
}

func (e *cliError) Error() string { return e.msg }

func errorf(format string, args ...any) *cliError {
	return &cliError{msg: fmt.Sprintf(format, args...)}
}

type armDetail = arm.ErrorDetail

// errCancelled is az's "Operation cancelled." after a refused prompt.
var errCancelled = &cliError{msg: "Operation cancelled."}

const (
	sslRecommendation = "Certificate verification failed. The CLI trusts only the Cerulean CA in CERULEAN_CA_FILE " +
		"(default: $CERULEAN_DATA_DIR/tls/ca.pem). Check that it is the CA of the server at CERULEAN_ENDPOINT."
	connectRecommendation = "Check that the Cerulean server is running ('cerulean serve') and that CERULEAN_ENDPOINT points at it."
	queryReference        = "To learn more about --query, please visit: 'https://docs.microsoft.com/cli/azure/query-azure-cli'"
	loginHint             = "Interactive authentication is needed. Please run:\naz login"
)

// describeError turns an error into the lines az prints and its exit code
// (azure.cli.core.util.handle_exception).
func describeError(err error) (msg string, recommendations []string, exitCode int) {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.msg, ue.recommendations, 2
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.msg, ce.recommendations, 1
	}
	if re, ok := client.AsResponseError(err); ok {
		switch re.Surface {
		case client.SurfaceLogin:
			return re.Message, []string{loginHint}, 1
		case client.SurfaceGraph:
			// GraphError(error.message) becomes a CLIError: exit 1.
			return re.Message, nil, 1
		default:
			code := 1
			if re.StatusCode == http.StatusNotFound {
				code = 3 // ResourceNotFoundError
			}
			return armMessage(re), nil, code
		}
	}
	if errors.Is(err, context.Canceled) {
		return "Keyboard interrupt is captured.", nil, 1
	}
	var te *client.TransportError
	if errors.As(err, &te) {
		host := te.URL
		if u, perr := url.Parse(te.URL); perr == nil {
			host = u.Scheme + "://" + u.Host
		}
		msg := fmt.Sprintf("Failed to connect to %s: %v", host, te.Err)
		var ua x509.UnknownAuthorityError
		var he x509.HostnameError
		var ci x509.CertificateInvalidError
		if errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || strings.Contains(te.Err.Error(), "tls: failed to verify certificate") {
			return msg, []string{sslRecommendation}, 1
		}
		return msg, []string{connectRecommendation}, 1
	}
	// An *errdefs.Error's message already says what its cause was (its
	// Error() would repeat the cause after it), so it goes before the
	// bare network errors it may wrap.
	if e, ok := errors.AsType[*errdefs.Error](err); ok && e.Message != "" {
		return e.Message, nil, 1
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return err.Error(), nil, 1
	}
	return err.Error(), nil, 1
}

// notFound reports whether err stands for a 404, the condition under which
// az's show commands exit 3.
func notFound(err error) bool {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.status == http.StatusNotFound
	}
	return client.StatusCode(err) == http.StatusNotFound
}

// armMessage renders an ARM error as azure-core's HttpResponseError does
// with the OData v4 format: "(Code) Message", then "Code: ...",
// "Message: ...", an optional "Target: ..." and the details.
func armMessage(re *client.ResponseError) string {
	if re.Code == "" {
		return re.Message
	}
	return fmt.Sprintf("(%s) %s\n%s", re.Code, re.Message, odataDetails(re.Code, re.Message, re.Target, re.Details))
}

func odataDetails(code, message, target string, details []armDetail) string {
	s := "Code: " + code + "\nMessage: " + message
	if target != "" {
		s += "\nTarget: " + target
	}
	if len(details) > 0 {
		s += "\nException Details:"
		for _, d := range details {
			text := fmt.Sprintf("(%s) %s\n%s", d.Code, d.Message, odataDetails(d.Code, d.Message, d.Target, d.Details))
			lines := strings.Split(text, "\n")
			for i, l := range lines {
				lines[i] = "\t" + l
			}
			// azure-core joins the detail lines without a leading newline.
			s += strings.Join(lines, "\n")
		}
	}
	return s
}
