#!/usr/bin/env bash
# bench/peers/build.sh - builds the peer-SDK clients that the benchmark sets
# beside acmpca (issue 16), each only where its toolchain is present, and says
# how to run them.
#
#   bash bench/peers/build.sh [go] [rust] [node]      (no argument: all three)
#
# Env: BENCH_PEERS_OUT  where builds go (default /tmp/acmpca-peers; nothing is
#                       written in the tree)
#      BENCH_PEERS_JOBS parallel jobs for cargo (default 2)
# Idempotent: a peer whose output is newer than its sources is not rebuilt.
# Needs the registries only on the first build (Go module proxy, crates.io,
# npm); versions are pinned by go.sum, Cargo.lock and package-lock.json.
#
# Writes $BENCH_PEERS_OUT/peers.txt, one runnable peer a line,
#   NAME<TAB>COMMAND            (COMMAND: words split on spaces, no quoting)
# and $BENCH_PEERS_OUT/skipped.txt, NAME<TAB>REASON, for the ones not built;
# prints both. A failed build is a skip with its log's path, not an exit 1.
#
# Every peer follows one protocol, which the harness relies on:
#   in:  BENCH_ENDPOINT (http://127.0.0.1:PORT, required), BENCH_CALLS timed
#        calls (default 1000), BENCH_WARMUP (default 100; the first call is
#        made and timed even at 0), BENCH_MODE (set by the COMMAND of each
#        line), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (required;
#        the metadata service is switched off), BENCH_T0 (optional: the
#        CLOCK_REALTIME ns at which the harness started the process, e.g.
#        `date +%s%N`; without it process start comes from /proc in 10 ms
#        ticks), BENCH_CA_ARN / BENCH_CERT_ARN (optional ARNs to ask for).
#   do:  one SDK client (keep-alive), GetCertificate WARMUP times, then CALLS
#        times, SDK default retries.
#   out: one JSON line on stdout: name, version (of the SDK), calls,
#        cpu_us_per_call (getrusage / cpuUsage user+sys over the timed loop,
#        all threads), wall_us_per_call, vmhwm_kb (VmHWM at the end),
#        t_process_start_ms (exec to main; Go counts its package init here),
#        t_import_client_ms (config + client; Rust: + tokio runtime; Node:
#        require() + new client), t_first_call_ms. Any error: a message on
#        stderr, exit 1.
set -u

[ $# -eq 0 ] && set -- go rust node
for peer in "$@"; do
    case $peer in
    go | rust | node) ;;
    *)
        echo "build.sh: unknown peer '$peer': expected go, rust or node" >&2
        exit 2
        ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_PEERS_OUT:-/tmp/acmpca-peers}
jobs=${BENCH_PEERS_JOBS:-2}
mkdir -p "$out" || exit 1
peers="$out/peers.txt"
skipped="$out/skipped.txt"
: >"$peers"
: >"$skipped"

add() { printf '%s\t%s\n' "$1" "$2" >>"$peers"; }
skip() { printf '%s\t%s\n' "$1" "$2" >>"$skipped"; }

# newer OUT SRC...: true when OUT exists and is newer than every SRC.
newer() {
    local target=$1 src
    shift
    [ -e "$target" ] || return 1
    for src in "$@"; do
        [ "$target" -nt "$src" ] || return 1
    done
}

build_go() {
    local names=("go aws-sdk-go-v2 (json)" "go aws-sdk-go-v2 (cbor)")
    local bin="$out/go/acmpca-peer-go" log="$out/go/build.log"
    if ! command -v go >/dev/null; then
        skip "${names[0]}" "no go toolchain"
        skip "${names[1]}" "no go toolchain"
        return
    fi
    mkdir -p "$out/go"
    if ! newer "$bin" "$here"/go/*.go "$here/go/go.mod" "$here/go/go.sum"; then
        echo "building go peer (log: $log)" >&2
        # -mod=readonly: go.sum pins the versions, and the tree is never written.
        if ! (cd "$here/go" && GOFLAGS=-mod=readonly go build -buildvcs=false -trimpath \
                -o "$bin.tmp" . && mv "$bin.tmp" "$bin") >"$log" 2>&1; then
            skip "${names[0]}" "go build failed, see $log"
            skip "${names[1]}" "go build failed, see $log"
            return
        fi
    fi
    add "${names[0]}" "env BENCH_MODE=json $bin"
    add "${names[1]}" "env BENCH_MODE=cbor $bin"
}

build_rust() {
    local names=("rust aws-sdk-acmpca (tokio current-thread)" "rust aws-sdk-acmpca (tokio multi-thread)")
    local target="$out/rust-target" log="$out/rust-build.log"
    local bin="$target/release/acmpca-peer-rust"
    if ! command -v cargo >/dev/null; then
        skip "${names[0]}" "no cargo toolchain"
        skip "${names[1]}" "no cargo toolchain"
        return
    fi
    if ! newer "$bin" "$here"/rust/src/*.rs "$here/rust/Cargo.toml" "$here/rust/Cargo.lock"; then
        echo "building rust peer, several minutes on 2 cores the first time (log: $log)" >&2
        if ! (cd "$here/rust" && CARGO_TARGET_DIR="$target" cargo build --release --locked \
                -j "$jobs") >"$log" 2>&1; then
            skip "${names[0]}" "cargo build failed, see $log"
            skip "${names[1]}" "cargo build failed, see $log"
            return
        fi
        touch "$bin" # cargo keeps the old mtime when nothing changed
    fi
    add "${names[0]}" "env BENCH_MODE=current $bin"
    add "${names[1]}" "env BENCH_MODE=multi $bin"
}

build_node() {
    local name="node @aws-sdk/client-acm-pca" dir="$out/node" log="$out/node/build.log"
    local node
    if ! node=$(command -v node) || ! command -v npm >/dev/null; then
        skip "$name" "no node/npm toolchain"
        return
    fi
    mkdir -p "$dir"
    # node_modules lives outside the tree; main.js finds it through NODE_PATH.
    if ! cmp -s "$here/node/package-lock.json" "$dir/package-lock.json" ||
        [ ! -d "$dir/node_modules/@aws-sdk/client-acm-pca" ]; then
        echo "installing node peer (log: $log)" >&2
        if ! cp "$here/node/package.json" "$here/node/package-lock.json" "$dir/" ||
            ! npm ci --prefix "$dir" --no-audit --no-fund >"$log" 2>&1; then
            rm -f "$dir/package-lock.json" # so that the next run tries again
            skip "$name" "npm ci failed, see $log"
            return
        fi
    fi
    add "$name" "env NODE_PATH=$dir/node_modules $node $here/node/main.js"
}

for peer in "$@"; do
    "build_$peer"
done

echo "# $peers"
cat "$peers"
if [ -s "$skipped" ]; then
    echo "# skipped ($skipped)"
    cat "$skipped"
fi
