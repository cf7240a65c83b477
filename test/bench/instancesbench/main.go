// Command instancesbench is the Go half of scripts/bench-instances.sh: it
// measures how long a container group takes from its PUT to a running
// container, through ARM's REST API as any client would drive it, without
// the az CLI (its process start and the 1 s Retry-After polling would
// dominate what is measured).
//
// It signs in with the server's bootstrap credentials (client credentials
// at the Entra token endpoint, for ARM), then for each round PUTs a
// container group, GETs it every -poll until its first container's
// instanceView.currentState.state is "Running", records the time from
// sending the PUT to that answer, and DELETEs the group. Warm-up rounds
// run first and are not counted. Each round's times go to stderr; the last
// line on stdout is the summary, in seconds:
//
//	rounds=5 min=0.101 median=0.112 max=0.130 put_median=0.031
//
//	instancesbench -endpoint https://127.0.0.1:7443 -data-dir DIR -resource-group bench \
//	    -image benchmark.azurecr.localhost:7443/bench/small:v1 -user APPID -password SECRET \
//	    [-rounds 5] [-warmup 1] [-restart Never] [-name bench] [-poll 5ms] [-timeout 5m]
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/bootstrap"
)

const (
	apiVersion  = "2023-05-01"
	armResource = "https://management.core.windows.net/"
)

type options struct {
	endpoint, dataDir, group, image, user, password, restart, name, command string
	rounds, warmup                                                          int
	poll, timeout                                                           time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.endpoint, "endpoint", "", "the server's URL, https://127.0.0.1:PORT")
	flag.StringVar(&o.dataDir, "data-dir", "", "the server's data dir (bootstrap credentials and tls/ca.pem)")
	flag.StringVar(&o.group, "resource-group", "", "the resource group the container groups go to")
	flag.StringVar(&o.image, "image", "", "the image, login-server/repository:tag")
	flag.StringVar(&o.user, "user", "", "imageRegistryCredentials username (empty: anonymous pull)")
	flag.StringVar(&o.password, "password", "", "imageRegistryCredentials password")
	flag.StringVar(&o.restart, "restart", "Never", "restartPolicy: Never, OnFailure or Always")
	flag.StringVar(&o.name, "name", "bench", "container group name prefix (the round number is appended)")
	flag.StringVar(&o.command, "command", "sleep 3600", "the container's command, split on spaces")
	flag.IntVar(&o.rounds, "rounds", 5, "measured rounds")
	flag.IntVar(&o.warmup, "warmup", 1, "rounds run first and not counted")
	flag.DurationVar(&o.poll, "poll", 5*time.Millisecond, "GET interval while waiting for Running")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long one round may take")
	flag.Parse()
	if o.endpoint == "" || o.dataDir == "" || o.group == "" || o.image == "" || o.rounds < 1 || o.warmup < 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "instancesbench:", err)
		os.Exit(1)
	}
}

// client is an ARM client holding one bearer token and one keep-alive
// connection, so that no round pays for a TLS handshake or a sign-in.
type client struct {
	http     *http.Client
	endpoint string
	token    string
	groupURL string // …/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/containerGroups/
}

func run(ctx context.Context, o options) error {
	creds, err := bootstrap.Load(bootstrap.Path(o.dataDir))
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(filepath.Join(o.dataDir, "tls", "ca.pem"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("no certificate in tls/ca.pem")
	}
	c := &client{
		http: &http.Client{Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 4,
		}},
		endpoint: strings.TrimSuffix(o.endpoint, "/"),
	}
	if c.token, err = c.signIn(ctx, creds); err != nil {
		return err
	}
	c.groupURL = fmt.Sprintf("%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerInstance/containerGroups/",
		c.endpoint, creds.SubscriptionID, url.PathEscape(o.group))
	// The connection is open and ARM has seen the token before the clock
	// starts.
	if _, err := c.do(ctx, http.MethodGet, fmt.Sprintf("%s/subscriptions/%s/resourceGroups/%s?api-version=2021-04-01",
		c.endpoint, creds.SubscriptionID, url.PathEscape(o.group)), nil, http.StatusOK); err != nil {
		return fmt.Errorf("resource group %s: %w", o.group, err)
	}

	var running, accepted []time.Duration
	for i := range o.warmup + o.rounds {
		name := fmt.Sprintf("%s-%d-%d", o.name, time.Now().UnixNano()%1e6, i)
		put, total, err := c.round(ctx, o, name)
		if derr := c.delete(ctx, name); derr != nil && err == nil {
			err = derr
		}
		if err != nil {
			return fmt.Errorf("round %d (%s): %w", i+1, name, err)
		}
		kind := "measured"
		if i < o.warmup {
			kind = "warm-up"
		} else {
			running, accepted = append(running, total), append(accepted, put)
		}
		fmt.Fprintf(os.Stderr, "    %-8s %s: PUT answered after %.3f s, Running after %.3f s\n", kind, name, put.Seconds(), total.Seconds())
	}
	slices.Sort(running)
	slices.Sort(accepted)
	fmt.Printf("rounds=%d min=%.3f median=%.3f max=%.3f put_median=%.3f\n",
		len(running), running[0].Seconds(), median(running).Seconds(), running[len(running)-1].Seconds(), median(accepted).Seconds())
	return nil
}

func median(d []time.Duration) time.Duration {
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// signIn gets an ARM token with the client credentials grant at the v1
// endpoint (resource=…), as azidentity and the az CLI do for a service
// principal.
func (c *client) signIn(ctx context.Context, creds bootstrap.Credentials) (string, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {creds.AppID},
		"client_secret": {creds.Password},
		"resource":      {armResource},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/"+creds.TenantID+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %s: %s", resp.Status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: no access_token in %s", body)
	}
	return tok.AccessToken, nil
}

// do sends one ARM request and returns the body of an answer with one of
// the wanted statuses.
func (c *client) do(ctx context.Context, method, u string, body any, want ...int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(want, resp.StatusCode) {
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, b)
	}
	return b, nil
}

// group is the part of a container group GET this reads.
type group struct {
	Properties struct {
		ProvisioningState string `json:"provisioningState"`
		Containers        []struct {
			Properties struct {
				InstanceView *struct {
					CurrentState struct {
						State        string `json:"state"`
						DetailStatus string `json:"detailStatus"`
					} `json:"currentState"`
					Events []struct {
						Name    string `json:"name"`
						Message string `json:"message"`
					} `json:"events"`
				} `json:"instanceView"`
			} `json:"properties"`
		} `json:"containers"`
	} `json:"properties"`
}

// round creates the group and waits for its container to run. It returns
// how long the PUT took to answer and how long until the GET that showed
// the container Running answered, both from just before the PUT was sent.
func (c *client) round(ctx context.Context, o options, name string) (time.Duration, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	container := map[string]any{
		"image":     o.image,
		"command":   strings.Fields(o.command),
		"resources": map[string]any{"requests": map[string]any{"cpu": 1, "memoryInGB": 1}},
	}
	props := map[string]any{
		"osType":        "Linux",
		"restartPolicy": o.restart,
		"containers":    []any{map[string]any{"name": "bench", "properties": container}},
	}
	if o.user != "" {
		server, _, _ := strings.Cut(o.image, "/")
		props["imageRegistryCredentials"] = []any{map[string]any{"server": server, "username": o.user, "password": o.password}}
	}
	body := map[string]any{"location": "eastus", "properties": props}
	u := c.groupURL + name + "?api-version=" + apiVersion

	start := time.Now()
	if _, err := c.do(ctx, http.MethodPut, u, body, http.StatusOK, http.StatusCreated); err != nil {
		return 0, 0, err
	}
	put := time.Since(start)
	for {
		b, err := c.do(ctx, http.MethodGet, u, nil, http.StatusOK)
		if err != nil {
			return put, 0, err
		}
		var g group
		if err := json.Unmarshal(b, &g); err != nil {
			return put, 0, fmt.Errorf("GET: %w", err)
		}
		if cs := g.Properties.Containers; len(cs) > 0 && cs[0].Properties.InstanceView != nil {
			iv := cs[0].Properties.InstanceView
			if iv.CurrentState.State == "Running" {
				return put, time.Since(start), nil
			}
			if iv.CurrentState.State == "Terminated" || g.Properties.ProvisioningState == "Failed" {
				return put, 0, fmt.Errorf("the container did not run: state %s (%s), provisioning %s, events %+v",
					iv.CurrentState.State, iv.CurrentState.DetailStatus, g.Properties.ProvisioningState, iv.Events)
			}
		} else if g.Properties.ProvisioningState == "Failed" {
			return put, 0, fmt.Errorf("provisioning failed: %s", b)
		}
		select {
		case <-ctx.Done():
			return put, 0, fmt.Errorf("not Running after %s: %s", o.timeout, b)
		case <-time.After(o.poll):
		}
	}
}

// delete removes the group (synchronous in Cerulean, as ACI answers once
// the group is gone); a group that is not there is fine.
func (c *client) delete(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, c.groupURL+name+"?api-version="+apiVersion, nil,
		http.StatusOK, http.StatusAccepted, http.StatusNoContent)
	return err
}
