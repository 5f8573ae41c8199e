//! The Rust peer of bench/peers (see bench/peers/build.sh for the protocol
//! every peer follows): aws-sdk-acmpca + aws-config on tokio, one client,
//! GetCertificate in a loop, one JSON line of figures on stdout.
//!
//! BENCH_MODE=current runs it on tokio's current-thread runtime, multi on the
//! multi-thread one (one worker per CPU), the two ways users run it.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use aws_sdk_acmpca::error::DisplayErrorContext;

fn main() {
    // Taken first: everything before this line counts as process start.
    let main_wall = SystemTime::now();
    match run(main_wall) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("acmpca-peer-rust: {e}");
            std::process::exit(1);
        }
    }
}

fn run(main_wall: SystemTime) -> Result<String, String> {
    let start_ms = process_start_ms(main_wall)?;
    let endpoint = std::env::var("BENCH_ENDPOINT").unwrap_or_default();
    if endpoint.is_empty() {
        return Err("BENCH_ENDPOINT: expected a URL such as http://127.0.0.1:PORT, got nothing".into());
    }
    let calls = env_count("BENCH_CALLS", 1000, 1)?;
    let warmup = env_count("BENCH_WARMUP", 100, 0)?;
    // Credentials and region come from the environment only: never from the
    // instance metadata service, which is not on loopback.
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        if std::env::var(name).unwrap_or_default().is_empty() {
            return Err(format!("{name}: expected a value in the environment, got nothing"));
        }
    }
    // Still one thread here: no tokio worker reads the environment yet.
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let mode = env_or("BENCH_MODE", "current");
    let ca_arn = env_or(
        "BENCH_CA_ARN",
        "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555",
    );
    let cert_arn = env_or("BENCH_CERT_ARN", &format!("{ca_arn}/certificate/0123456789abcdef0123456789abcdef"));

    // The runtime is part of "client creation": no call can be made without one.
    let t = Instant::now();
    let rt = match mode.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        "multi" => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
        _ => return Err(format!("BENCH_MODE: expected current or multi, got {mode:?}")),
    }
    .map_err(|e| format!("tokio runtime: {e}"))?;

    rt.block_on(async {
        let conf = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(&endpoint).load().await;
        let client = aws_sdk_acmpca::Client::new(&conf);
        let client_ms = ms_since(t);
        let call = || async {
            client
                .get_certificate()
                .certificate_authority_arn(&ca_arn)
                .certificate_arn(&cert_arn)
                .send()
                .await
                .map_err(|e| format!("GetCertificate: {}", DisplayErrorContext(&e)))
        };

        // The first call is the first warm-up call (made even with BENCH_WARMUP=0).
        let t = Instant::now();
        let first = call().await?;
        let first_ms = ms_since(t);
        if first.certificate().unwrap_or_default().is_empty() {
            return Err("GetCertificate: the answer has no Certificate".to_string());
        }
        for _ in 1..warmup {
            call().await?;
        }

        let cpu0 = cpu_seconds();
        let t = Instant::now();
        for _ in 0..calls {
            call().await?;
        }
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;

        let name = if mode == "current" { "tokio current-thread" } else { "tokio multi-thread" };
        Ok(format!(
            "{{\"name\":\"rust aws-sdk-acmpca ({name})\",\"version\":\"{}\",\"calls\":{calls},\
             \"cpu_us_per_call\":{:.3},\"wall_us_per_call\":{:.3},\"vmhwm_kb\":{},\
             \"t_process_start_ms\":{start_ms:.3},\"t_import_client_ms\":{client_ms:.3},\
             \"t_first_call_ms\":{first_ms:.3}}}",
            aws_sdk_acmpca::meta::PKG_VERSION,
            cpu * 1e6 / calls as f64,
            wall * 1e6 / calls as f64,
            vm_hwm_kb()?,
        ))
    })
}

fn env_or(name: &str, def: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| def.to_string())
}

fn env_count(name: &str, def: u64, min: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| format!("{name}: expected an integer >= {min}, got {v:?}")),
        _ => Ok(def),
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the zeroed struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Exec to main. BENCH_T0 (CLOCK_REALTIME ns, taken by the harness just before
/// it starts us) is exact; without it, /proc/self/stat's start time against
/// /proc/uptime, both in 10 ms ticks.
fn process_start_ms(main_wall: SystemTime) -> Result<f64, String> {
    if let Ok(v) = std::env::var("BENCH_T0") {
        if !v.is_empty() {
            let t0 = v
                .parse::<u128>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("BENCH_T0: expected CLOCK_REALTIME nanoseconds, got {v:?}"))?;
            let now = main_wall.duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_nanos();
            return Ok((now as f64 - t0 as f64) / 1e6);
        }
    }
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let stat = read("/proc/self/stat")?;
    let up = read("/proc/uptime")?;
    // Fields after the ")" that closes the command name; starttime is field 22.
    let ticks = stat[stat.rfind(')').unwrap_or(0) + 1..]
        .split_whitespace()
        .nth(19)
        .and_then(|s| s.parse::<f64>().ok());
    let secs = up.split_whitespace().next().and_then(|s| s.parse::<f64>().ok());
    match (ticks, secs) {
        (Some(ticks), Some(secs)) => Ok((secs - ticks / 100.0) * 1e3),
        _ => Err("cannot parse /proc/self/stat or /proc/uptime".into()),
    }
}

/// This process's own peak RSS (getrusage's ru_maxrss would include the
/// forking parent's peak).
fn vm_hwm_kb() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| format!("/proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".to_string())
}
