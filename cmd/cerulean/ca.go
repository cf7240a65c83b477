package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cerulean/cerulean/internal/app"
	"github.com/cerulean/cerulean/internal/config"
)

const caLong = `Print where the server's CA certificate is (<data dir>/tls/ca.pem, made on
the first start and kept) and how to make each kind of client trust it. The
registry login servers in the commands are the data dir's registries.
With --store, the CA is the one every server on that store shares.
--pem prints the certificate alone, for piping.`

// systemBundle is Debian's and Ubuntu's bundle of the system's roots.
const systemBundle = "/etc/ssl/certs/ca-certificates.crt"

func caCommand() *cobra.Command {
	cfg := config.Defaults(os.Getenv)
	var pem bool
	cmd := &cobra.Command{
		Use:     "ca [--pem]",
		Short:   "Print the CA certificate's path and how to trust it (az, SDKs, docker, podman)",
		Long:    caLong,
		Example: "  cerulean ca\n  cerulean ca --pem > cerulean-ca.pem",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dataDir, err := filepath.Abs(cfg.DataDir)
			if err != nil {
				return err
			}
			caFile := app.CAFile(dataDir)
			data, err := app.ReadCA(cmd.Context(), dataDir, cfg.Store)
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("no CA certificate at %s: `cerulean serve --data-dir %s` has not run yet", caFile, dataDir)
			}
			if err != nil {
				return err
			}
			if pem {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if have, err := os.ReadFile(caFile); err != nil || !bytes.Equal(have, data) {
				// --store: the shared CA, which serve copies here when it starts.
				fmt.Fprintf(cmd.ErrOrStderr(), "cerulean ca: warning: %s is not the shared CA (serve has not run with this data dir and --store yet): "+
					"use `cerulean ca --pem > FILE`, and FILE for it below\n", caFile)
			}
			servers, err := app.LoginServers(cmd.Context(), dataDir, cfg.Store)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "cerulean ca: warning: cannot list the registries:", err)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), trustText(dataDir, caFile, servers))
			return err
		},
	}
	dataDirFlag(cmd, &cfg)
	cmd.Flags().BoolVar(&pem, "pem", false, "print only the CA certificate (PEM)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return cmd
}

// trustText says, per client, how to trust caFile.
func trustText(dataDir, caFile string, loginServers []string) string {
	bundle := shellQuote(filepath.Join(dataDir, "ca-bundle.pem"))
	ca := shellQuote(caFile)
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("CA certificate: %s", caFile)
	p("")
	p("az and the Azure SDK for Python: REQUESTS_CA_BUNDLE replaces the default roots, so give it")
	p("a bundle of both; az's ARM_CLOUD_METADATA_URL lookup uses Python's default SSL context,")
	p("which reads SSL_CERT_FILE:")
	p("  cat %s %s > %s", systemBundle, ca, bundle)
	p("  export REQUESTS_CA_BUNDLE=%s SSL_CERT_FILE=%s", bundle, bundle)
	p("Go:")
	p("  export SSL_CERT_FILE=%s", bundle)
	p("Node.js (added to its built-in roots):")
	p("  export NODE_EXTRA_CA_CERTS=%s", ca)
	p("The system store (Debian, Ubuntu: curl, OpenSSL, and Go and Python by default):")
	p("  cp %s /usr/local/share/ca-certificates/cerulean.crt && update-ca-certificates", ca)
	if len(loginServers) == 0 {
		p("There is no registry yet: below, put each registry's login server, port included")
		p("(az acr show -n NAME --query loginServer -o tsv), for LOGIN_SERVER.")
		loginServers = []string{"LOGIN_SERVER"}
	}
	for _, c := range []struct{ who, dir string }{
		{"docker", "/etc/docker/certs.d"},
		{"podman, skopeo, buildah", "/etc/containers/certs.d"},
	} {
		p("%s, per registry:", c.who)
		for _, ls := range loginServers {
			d := shellQuote(c.dir + "/" + ls)
			p("  mkdir -p %s && cp %s %s/ca.crt", d, ca, d)
		}
	}
	return b.String()
}

// shellQuote returns s as one shell word.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("_-./:@%+=,", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
