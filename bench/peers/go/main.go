// The Go peer of bench/peers (see bench/peers/build.sh for the protocol every
// peer follows): aws-sdk-go-v2 service/acmpca, one client, GetCertificate in a
// loop, one JSON line of figures on stdout.
//
// BENCH_MODE=cbor keeps the SDK's default wire protocol (Smithy RPC v2 CBOR
// since service/acmpca v1.57.0); BENCH_MODE=json swaps in AWS JSON 1.1, which
// is what every release before v1.57.0 spoke.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
)

const sdkModule = "github.com/aws/aws-sdk-go-v2/service/acmpca"

func main() {
	// Taken first: everything before this line (runtime and package init,
	// which includes the SDK's) counts as process start.
	mainWall := time.Now()
	out, err := run(mainWall)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acmpca-peer-go:", err)
		os.Exit(1)
	}
	fmt.Println(out)
}

func run(mainWall time.Time) (string, error) {
	startMs, err := processStartMs(mainWall)
	if err != nil {
		return "", err
	}
	endpoint := os.Getenv("BENCH_ENDPOINT")
	if endpoint == "" {
		return "", errors.New("BENCH_ENDPOINT: expected a URL such as http://127.0.0.1:PORT, got nothing")
	}
	calls, err := envCount("BENCH_CALLS", 1000, 1)
	if err != nil {
		return "", err
	}
	warmup, err := envCount("BENCH_WARMUP", 100, 0)
	if err != nil {
		return "", err
	}
	// Credentials and region come from the environment only: never from the
	// instance metadata service, which is not on loopback.
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		if os.Getenv(name) == "" {
			return "", fmt.Errorf("%s: expected a value in the environment, got nothing", name)
		}
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	mode := envOr("BENCH_MODE", "cbor")
	if mode != "json" && mode != "cbor" {
		return "", fmt.Errorf("BENCH_MODE: expected json or cbor, got %q", mode)
	}
	caArn := envOr("BENCH_CA_ARN", "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555")
	certArn := envOr("BENCH_CERT_ARN", caArn+"/certificate/0123456789abcdef0123456789abcdef")
	ctx := context.Background()

	t := time.Now()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	client := acmpca.NewFromConfig(cfg, func(o *acmpca.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if mode == "json" {
			o.Protocol = awsjson.New11(schemas.ACMPrivateCA)
		}
	})
	clientMs := msSince(t)
	in := &acmpca.GetCertificateInput{CertificateAuthorityArn: &caArn, CertificateArn: &certArn}

	// The first call is the first warm-up call (made even with BENCH_WARMUP=0).
	t = time.Now()
	first, err := client.GetCertificate(ctx, in)
	if err != nil {
		return "", fmt.Errorf("GetCertificate: %w", err)
	}
	firstMs := msSince(t)
	if first.Certificate == nil || *first.Certificate == "" {
		return "", errors.New("GetCertificate: the answer has no Certificate")
	}
	for i := 1; i < warmup; i++ {
		if _, err := client.GetCertificate(ctx, in); err != nil {
			return "", fmt.Errorf("GetCertificate: %w", err)
		}
	}

	cpu0 := cpuSeconds()
	t = time.Now()
	for i := 0; i < calls; i++ {
		if _, err := client.GetCertificate(ctx, in); err != nil {
			return "", fmt.Errorf("GetCertificate: %w", err)
		}
	}
	wall := time.Since(t).Seconds()
	cpu := cpuSeconds() - cpu0

	hwm, err := vmHWMKb()
	if err != nil {
		return "", err
	}
	line, err := json.Marshal(map[string]any{
		"name":               "go aws-sdk-go-v2 (" + mode + ")",
		"version":            sdkVersion(),
		"calls":              calls,
		"cpu_us_per_call":    round(cpu * 1e6 / float64(calls)),
		"wall_us_per_call":   round(wall * 1e6 / float64(calls)),
		"vmhwm_kb":           hwm,
		"t_process_start_ms": round(startMs),
		"t_import_client_ms": round(clientMs),
		"t_first_call_ms":    round(firstMs),
	})
	return string(line), err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envCount(name string, def, min int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, fmt.Errorf("%s: expected an integer >= %d, got %q", name, min, v)
	}
	return n, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

func round(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// processStartMs: exec to main. BENCH_T0 (CLOCK_REALTIME ns, taken by the
// harness just before it starts us) is exact; without it, /proc/self/stat's
// start time against /proc/uptime, both in 10 ms ticks.
func processStartMs(mainWall time.Time) (float64, error) {
	if v := os.Getenv("BENCH_T0"); v != "" {
		t0, err := strconv.ParseInt(v, 10, 64)
		if err != nil || t0 <= 0 {
			return 0, fmt.Errorf("BENCH_T0: expected CLOCK_REALTIME nanoseconds, got %q", v)
		}
		return float64(mainWall.UnixNano()-t0) / 1e6, nil
	}
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	// Fields after the ")" that closes the command name; starttime is field 22.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	ticks, err1 := strconv.ParseFloat(f[19], 64)
	secs, err2 := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("cannot parse /proc/self/stat or /proc/uptime")
	}
	return (secs - ticks/100) * 1000, nil
}

// vmHWMKb: this process's own peak RSS (getrusage's ru_maxrss would include
// the forking parent's peak).
func vmHWMKb() (int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strconv.Atoi(strings.Fields(l)[1])
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

func sdkVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == sdkModule {
				return d.Version
			}
		}
	}
	return "unknown"
}
