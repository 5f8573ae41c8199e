// The Node peer of bench/peers (see bench/peers/build.sh for the protocol
// every peer follows): @aws-sdk/client-acm-pca, one client (the SDK's default
// NodeHttpHandler, whose agent keeps connections alive), GetCertificate in a
// loop, one JSON line of figures on stdout. Its node_modules live outside the
// tree: run with NODE_PATH=$BENCH_PEERS_OUT/node/node_modules.
'use strict';

// Taken first: everything before this line counts as process start.
const mainWallMs = performance.timeOrigin + performance.now();
const fs = require('fs');

function fail(msg) {
  process.stderr.write(`acmpca-peer-node: ${msg}\n`);
  process.exit(1);
}

function envOr(name, def) {
  return process.env[name] ? process.env[name] : def;
}

function envCount(name, def, min) {
  const v = process.env[name];
  if (!v) return def;
  if (!/^[0-9]+$/.test(v) || Number(v) < min) fail(`${name}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

// Exec to main. BENCH_T0 (CLOCK_REALTIME ns, taken by the harness just before
// it starts us) is exact; without it, /proc/self/stat's start time against
// /proc/uptime, both in 10 ms ticks.
function processStartMs() {
  const v = process.env.BENCH_T0;
  if (v) {
    if (!/^[0-9]+$/.test(v) || BigInt(v) === 0n) fail(`BENCH_T0: expected CLOCK_REALTIME nanoseconds, got ${JSON.stringify(v)}`);
    return mainWallMs - Number(BigInt(v) / 1000n) / 1000;
  }
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const ticks = Number(stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/)[19]);
  const secs = Number(fs.readFileSync('/proc/uptime', 'utf8').split(/\s+/)[0]);
  return (secs - ticks / 100) * 1000;
}

// This process's own peak RSS (getrusage's ru_maxrss would include the
// forking parent's peak).
function vmHwmKb() {
  const m = /^VmHWM:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!m) fail('no VmHWM in /proc/self/status');
  return Number(m[1]);
}

const round = (x) => Math.round(x * 1000) / 1000;
const msSince = (t) => Number(process.hrtime.bigint() - t) / 1e6;

async function main() {
  const startMs = processStartMs();
  const endpoint = process.env.BENCH_ENDPOINT;
  if (!endpoint) fail('BENCH_ENDPOINT: expected a URL such as http://127.0.0.1:PORT, got nothing');
  // Credentials and region come from the environment only: never from the
  // instance metadata service, which is not on loopback.
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
    if (!process.env[name]) fail(`${name}: expected a value in the environment, got nothing`);
  }
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const calls = envCount('BENCH_CALLS', 1000, 1);
  const warmup = envCount('BENCH_WARMUP', 100, 0);
  const caArn = envOr('BENCH_CA_ARN',
    'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555');
  const certArn = envOr('BENCH_CERT_ARN', `${caArn}/certificate/0123456789abcdef0123456789abcdef`);

  let t = process.hrtime.bigint();
  const { ACMPCAClient, GetCertificateCommand } = require('@aws-sdk/client-acm-pca');
  const client = new ACMPCAClient({ endpoint });
  const clientMs = msSince(t);
  const input = { CertificateAuthorityArn: caArn, CertificateArn: certArn };
  const call = () => client.send(new GetCertificateCommand(input));

  // The first call is the first warm-up call (made even with BENCH_WARMUP=0).
  t = process.hrtime.bigint();
  const first = await call();
  const firstMs = msSince(t);
  if (!first.Certificate) fail('GetCertificate: the answer has no Certificate');
  for (let i = 1; i < warmup; i++) await call();

  const cpu0 = process.cpuUsage();
  t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call();
  const wallUs = Number(process.hrtime.bigint() - t) / 1e3;
  const cpu = process.cpuUsage(cpu0);
  client.destroy();

  process.stdout.write(JSON.stringify({
    name: 'node @aws-sdk/client-acm-pca',
    version: require('@aws-sdk/client-acm-pca/package.json').version,
    calls,
    cpu_us_per_call: round((cpu.user + cpu.system) / calls),
    wall_us_per_call: round(wallUs / calls),
    vmhwm_kb: vmHwmKb(),
    t_process_start_ms: round(startMs),
    t_import_client_ms: round(clientMs),
    t_first_call_ms: round(firstMs),
  }) + '\n');
}

main().catch((e) => fail(e && e.message ? `${e.name}: ${e.message}` : String(e)));
