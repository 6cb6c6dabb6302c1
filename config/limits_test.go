package config_test

import (
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/config"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    config.Rate
		wantErr bool
	}{
		{"10/15m", config.Rate{N: 10, Per: 15 * time.Minute}, false},
		{" 30 / 1h ", config.Rate{N: 30, Per: time.Hour}, false},
		{"1000000/168h", config.Rate{N: 1_000_000, Per: 168 * time.Hour}, false},
		{"10", config.Rate{}, true},
		{"0/1h", config.Rate{}, true},
		{"-1/1h", config.Rate{}, true},
		{"10/0s", config.Rate{}, true},
		{"10/500ms", config.Rate{}, true},
		{"10/200h", config.Rate{}, true},
		{"ten/1h", config.Rate{}, true},
		{"10/1", config.Rate{}, true},
	}
	for _, tt := range tests {
		got, err := config.ParseRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRateLimitKeysValidated(t *testing.T) {
	env := map[string]string{"GATEHOUSE_METRICS_LISTEN": "nonsense"}
	if _, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil); err == nil {
		t.Error("Load with GATEHOUSE_METRICS_LISTEN=nonsense succeeded, want an error")
	}
	c := config.Default()
	c.RateLimit.LoginPerIP = "50 per minute"
	if err := c.Validate(); err == nil {
		t.Error(`Validate with rate_limit.login_per_ip "50 per minute" succeeded, want an error`)
	}
}
