// Command roundrobin serves the round-robin proxy of package roundrobin
// for scripts: the OCI conformance suite and the registry benchmark run
// against several Cerulean servers through it.
//
//	roundrobin -listen 127.0.0.1:5443 -cert server.pem -key server-key.pem -ca ca.pem 127.0.0.1:5444 127.0.0.1:5445
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/cerulean/cerulean/test/roundrobin"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "roundrobin:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:5443", "address to serve on")
	certFile := flag.String("cert", "", "TLS certificate (PEM) to serve")
	keyFile := flag.String("key", "", "its private key (PEM)")
	caFile := flag.String("ca", "", "CA (PEM) the backends' certificates chain to")
	flag.Parse()
	if flag.NArg() == 0 || *certFile == "" || *keyFile == "" || *caFile == "" {
		flag.Usage()
		return fmt.Errorf("want -cert, -key, -ca and at least one backend host:port")
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(*caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s holds no PEM certificate", *caFile)
	}
	p, err := roundrobin.New(flag.Args(), roots)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "roundrobin: serving on %s for %v\n", ln.Addr(), flag.Args())
	return p.Serve(ln, cert)
}
