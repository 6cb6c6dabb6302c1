package config_test

import (
	"flag"
	"fmt"

	"github.com/gatehouse-dev/gatehouse/config"
)

func ExampleLoad() {
	// The command line of "gatehouse serve".
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	config.RegisterFlags(fs)
	if err := fs.Parse([]string{"--config", "testdata/gatehouse.yaml", "--log-level", "warn"}); err != nil {
		fmt.Println(err)
		return
	}

	// A real program passes os.LookupEnv.
	env := map[string]string{"GATEHOUSE_PUBLIC_URL": "https://auth.example.com"}
	lookupEnv := func(name string) (string, bool) { v, ok := env[name]; return v, ok }

	cfg, err := config.Load(fs.Lookup("config").Value.String(), lookupEnv, fs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("listen:", cfg.Listen)        // from the file
	fmt.Println("public_url:", cfg.PublicURL) // the environment overrides the file
	fmt.Println("log.level:", cfg.Log.Level)  // the flag overrides the file
	fmt.Println("session.idle_timeout:", cfg.Session.IdleTimeout)
	fmt.Println("users.default_roles:", cfg.Users.DefaultRoles)
	fmt.Println("token.access_ttl:", cfg.Token.AccessTTL) // the default
	fmt.Println("dev mode:", cfg.DevMode())               // off for an https public URL
	// Output:
	// listen: 127.0.0.1:9000
	// public_url: https://auth.example.com
	// log.level: warn
	// session.idle_timeout: 1h0m0s
	// users.default_roles: [user editor]
	// token.access_ttl: 15m0s
	// dev mode: false
}

func ExampleKeys() {
	// Keys drives the loader, the flags and docs/configuration.md alike.
	for _, k := range config.Keys() {
		if k.Path == "http.read_timeout" {
			fmt.Printf("%s (%s, default %s): %s\n", k.Path, k.Type, k.Default, k.Help)
		}
	}
	// Output:
	// http.read_timeout (duration, default 15s): Time allowed to read a whole request, body included; 0 means no limit.
}
