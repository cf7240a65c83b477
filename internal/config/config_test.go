package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultsAndEnv(t *testing.T) {
	env := map[string]string{"CERULEAN_LISTEN": "127.0.0.1:9443", "CERULEAN_REGISTRY_DOMAIN": "cr.test",
		"CERULEAN_STORE": "postgres://db.test/c"}
	c := Defaults(func(k string) string { return env[k] })
	if c.Listen != "127.0.0.1:9443" || c.RegistryDomain != "cr.test" || c.Location != "eastus" || c.Store != "postgres://db.test/c" {
		t.Fatalf("unexpected config %+v", c)
	}
	if !strings.HasSuffix(c.DataDir, ".cerulean") {
		t.Fatalf("data dir %q", c.DataDir)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.ServerLease != DefaultServerLease || c.Advertise != "" {
		t.Fatalf("lease %v, advertise %q", c.ServerLease, c.Advertise)
	}
	env = map[string]string{"CERULEAN_ADVERTISE": "10.0.0.5:8443", "CERULEAN_SERVER_LEASE": "12s"}
	c = Defaults(func(k string) string { return env[k] })
	if c.Advertise != "10.0.0.5:8443" || c.ServerLease != 12*time.Second {
		t.Fatalf("advertise %q, lease %v from the environment", c.Advertise, c.ServerLease)
	}
	env["CERULEAN_SERVER_LEASE"] = "soon"
	if err := Defaults(func(k string) string { return env[k] }).Validate(); err == nil || !strings.Contains(err.Error(), "server lease") {
		t.Fatalf("an unparsable lease: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := Config{DataDir: "/d", Listen: "127.0.0.1:1", RegistryDomain: "azurecr.localhost", Location: "eastus", LogLevel: "info", InstancesDomain: "azurecontainer.localhost", Runtime: "runc"}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "data dir"},
		{"bad listen", func(c *Config) { c.Listen = "8443" }, "listen"},
		{"upper-case domain", func(c *Config) { c.RegistryDomain = "AzureCR.io" }, "registry domain"},
		{"domain with empty label", func(c *Config) { c.RegistryDomain = "a..b" }, "registry domain"},
		{"location with space", func(c *Config) { c.Location = "East US" }, "location"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log level"},
		{"instances domain", func(c *Config) { c.InstancesDomain = "Azure Container" }, "instances domain"},
		{"no runtime", func(c *Config) { c.Runtime = "" }, "runtime"},
		{"postgres store", func(c *Config) { c.Store = "postgres://u:p@db.example:5432/cerulean?sslmode=require" }, ""},
		{"postgresql store", func(c *Config) { c.Store = "postgresql://db.example/cerulean" }, ""},
		{"store without host", func(c *Config) { c.Store = "postgres:///cerulean" }, "names no host"},
		{"socket store", func(c *Config) { c.Store = "postgres:///cerulean?host=/run/postgresql" }, ""},
		{"mysql store", func(c *Config) { c.Store = "mysql://u:secret@db/cerulean" }, `scheme "mysql"`},
		{"path store", func(c *Config) { c.Store = "/var/lib/cerulean.db" }, "scheme"},
		{"s3 blobs", func(c *Config) { c.Blobs = "s3://bkt/p?endpoint=http://127.0.0.1:8333&region=us-east-1" }, ""},
		{"blobs not s3", func(c *Config) { c.Blobs = "/srv/blobs" }, "blobs"},
		{"blobs without bucket", func(c *Config) { c.Blobs = "s3:///p" }, "blobs"},
		{"blobs endpoint", func(c *Config) { c.Blobs = "s3://bkt/p?endpoint=127.0.0.1:8333" }, "endpoint"},
		{"registry port", func(c *Config) { c.RegistryPort = "443" }, ""},
		{"registry port not a number", func(c *Config) { c.RegistryPort = "https" }, "registry port"},
		{"registry port out of range", func(c *Config) { c.RegistryPort = "70000" }, "registry port"},
		{"advertise address", func(c *Config) { c.Advertise = "10.0.0.5:8443" }, ""},
		{"advertise name", func(c *Config) { c.Advertise = "cerulean-2.internal:443" }, ""},
		{"advertise ipv6", func(c *Config) { c.Advertise = "[fd00::5]:8443" }, ""},
		{"advertise without port", func(c *Config) { c.Advertise = "10.0.0.5" }, "advertise"},
		{"advertise port 0", func(c *Config) { c.Advertise = "10.0.0.5:0" }, "port"},
		{"advertise unspecified", func(c *Config) { c.Advertise = "0.0.0.0:8443" }, "advertise"},
		{"advertise no host", func(c *Config) { c.Advertise = ":8443" }, "advertise"},
		{"advertise bad host", func(c *Config) { c.Advertise = "a b:8443" }, "advertise"},
		{"lease", func(c *Config) { c.ServerLease = 10 * time.Second }, ""},
		{"lease too short", func(c *Config) { c.ServerLease = time.Second }, "server lease"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.mutate(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error about %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error quotes the password: %v", err)
			}
		})
	}
	multi := Config{Listen: "x"}
	if err := multi.Validate(); err == nil || strings.Count(err.Error(), "\n") < 3 {
		t.Fatalf("want all problems reported at once, got %v", err)
	}
}

// TestAzureHostnames: --azure-hostnames moves the defaults it owns (listen,
// registry and instances domains) but not what the operator set, and a
// registry domain other than azurecr.io is refused.
func TestAzureHostnames(t *testing.T) {
	env := map[string]string{"CERULEAN_AZURE_HOSTNAMES": "true", "CERULEAN_LISTEN": "127.0.0.2:443"}
	c := Defaults(func(k string) string { return env[k] })
	c.UseAzureHostnames(func(k string) bool { return env[k] != "" })
	if !c.AzureHostnames || c.Listen != "127.0.0.2:443" || c.RegistryDomain != AzureRegistryDomain || c.InstancesDomain != AzureInstancesDomain {
		t.Fatalf("azure hostnames from env: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}

	c = Defaults(func(string) string { return "" })
	c.AzureHostnames = true
	c.RegistryDomain = "cr.test"
	c.UseAzureHostnames(func(k string) bool { return k == Env.RegistryDomain })
	if c.Listen != AzureListen {
		t.Fatalf("listen %q, want %q", c.Listen, AzureListen)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "azurecr.io") {
		t.Fatalf("registry domain cr.test with --azure-hostnames: %v", err)
	}

	off := Defaults(func(string) string { return "" })
	off.UseAzureHostnames(func(string) bool { return false })
	if off.Listen != "127.0.0.1:8443" || off.RegistryDomain != "azurecr.localhost" {
		t.Fatalf("without --azure-hostnames the defaults moved: %+v", off)
	}

	bad := Defaults(func(k string) string { return map[string]string{"CERULEAN_AZURE_HOSTNAMES": "yes please"}[k] })
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "CERULEAN_AZURE_HOSTNAMES") {
		t.Fatalf("unparsable CERULEAN_AZURE_HOSTNAMES: %v", err)
	}
}
