#!/usr/bin/env bash
# The mutation check: plant each bug of tests/mutation/mutants.txt, one at a
# time, in a scratch copy of the tree, rebuild what its tests need, run only
# those tests, and report which of them caught it.
#
#   tests/mutation/run.sh              every mutant
#   tests/mutation/run.sh NAME...      only these
#   tests/mutation/run.sh --list       the mutants, their patches and tests
#   tests/mutation/run.sh --head ...   copy `git archive HEAD` (plus tests/mutation)
#                                      instead of the working tree
#
# The copy and its build live in $ACMPCA_MUTATION_DIR (default
# /tmp/acmpca-mutation-$UID) and are reused: a second run rebuilds only what
# changed. Before the mutants, the unmutated copy must pass every chosen test
# (else a "kill" would prove nothing). Prints one row per mutant (mutant,
# killed by, seconds). Exit status: 0 when every mutant was killed, 1 when
# one survived, 2 when the check itself could not run (a patch that does not
# apply or build, a failing unmutated copy).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${ACMPCA_MUTATION_DIR:-/tmp/acmpca-mutation-$(id -u)}
jobs=${ACMPCA_MUTATION_JOBS:-2}
src=$work/src build=$work/build

head=0 list=0
wanted=()
for arg in "$@"; do
  case $arg in
    --head) head=1 src=$work/src-head build=$work/build-head ;;
    --list) list=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $arg" >&2; exit 2 ;;
    *) wanted+=("$arg") ;;
  esac
done

# ---- the table: NAME PATCH TESTS [TARGETS] ------------------------------------------
# TESTS is a ctest regex, or pytest:PATH[::TEST] for the Python binding (built
# from the copy by pip into $work/python). TARGETS (comma-separated) are built besides the
# executables the ctest entries name.
names=() patches=() selections=() extras=()
while read -r name patch tests targets _; do
  case $name in ''|'#'*) continue ;; esac
  if [ ${#wanted[@]} -gt 0 ] && [[ " ${wanted[*]} " != *" $name "* ]]; then
    continue
  fi
  [ -f "$here/$patch" ] || { echo "run.sh: $name: no patch $patch" >&2; exit 2; }
  names+=("$name") patches+=("$patch") selections+=("$tests") extras+=("${targets:-}")
done < "$here/mutants.txt"
if [ ${#names[@]} -eq 0 ]; then
  echo "run.sh: no mutant selected (see --list)" >&2
  exit 2
fi
if [ $list = 1 ]; then
  for i in "${!names[@]}"; do
    printf '%-30s %-38s %s %s\n' "${names[$i]}" "${patches[$i]}" "${selections[$i]}" \
      "${extras[$i]}"
  done
  exit 0
fi

# ---- the scratch copy ----------------------------------------------------------------
mkdir -p "$src"
if [ $head = 1 ]; then
  git -C "$root" archive HEAD | tar -C "$src" -xf -
  tar -C "$root" -cf - tests/mutation | tar -C "$src" -xf -
else
  # Modification times are kept, so a second run rebuilds only what changed.
  tar -C "$root" --exclude='./build*' --exclude=./.git --exclude=./.venv --exclude='__pycache__' \
      --exclude=./.pytest_cache --exclude='*.so' --exclude='*.egg-info' \
      -cf - . | tar -C "$src" -xf -
fi
# A run stopped while a mutant was built may have left its objects behind:
# every file a patch touches is rebuilt once, from the clean copy.
for p in "$here"/*.patch; do
  sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p"
done | sort -u | while read -r f; do
  if [ -f "$src/$f" ]; then touch "$src/$f"; fi
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "== configuring $build"
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACMPCA_EXAMPLES=OFF \
        -DACMPCA_BENCH=OFF >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; exit 2; }
else
  cmake "$build" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 2; }
fi

# The build targets a mutant's tests need: the executables its ctest entries
# run (read from the generated CTestTestfile.cmake files, which name them
# before they exist) and its TARGETS column.
targets_for() {
  python3 - "$build" "$1" "$2" <<'PY'
import os, re, sys
build, selection, extra = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3]
known, found = set(), set(t for t in extra.split(",") if t)
for d, subdirs, files in os.walk(build):
    known.update(s[:-4] for s in subdirs if s.endswith(".dir"))
    if selection.startswith("pytest:") or "CTestTestfile.cmake" not in files:
        continue
    for line in open(os.path.join(d, "CTestTestfile.cmake")):
        m = re.match(r"add_test\(\[=\[(.*?)\]=\] (.*)\)$", line.strip())
        if m and re.search(selection, m.group(1)):
            for arg in re.findall(r'"([^"]*)"', m.group(2)):
                if os.path.realpath(arg).startswith(build + os.sep):
                    found.add(os.path.basename(arg))
print(" ".join(sorted(t for t in found if t in known)))
PY
}

# Build what selection $1 (with extra targets $2) needs; the log in $work/build.log.
build_for() {
  local targets
  targets=$(targets_for "$1" "$2")
  {
    if [ -n "$targets" ]; then
      # shellcheck disable=SC2086
      cmake --build "$build" -j"$jobs" --target $targets || return 1
    fi
    if [[ $1 == pytest:* ]]; then
      # As tests/run builds it (pip, isolated build), into a directory of its own.
      python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        --no-deps --upgrade --target "$work/python" "$src" || return 1
    fi
  } >"$work/build.log" 2>&1
}

# Run selection $1; print the tests that failed ("" if none).
run_selection() {
  local rc=0
  if [[ $1 == pytest:* ]]; then
    (cd "$src" && PYTHONPATH=$work/python python3 -m pytest -q -p no:cacheprovider \
       "${1#pytest:}" >"$work/tests.log" 2>&1) || rc=$?
    case $rc in
      0) ;;
      1) echo "$1" ;;  # tests ran, some failed
      *) echo "(pytest did not run: see $work/tests.log)" ;;
    esac
    return 0
  fi
  local failed=$build/Testing/Temporary/LastTestsFailed.log
  rm -f "$failed"
  (cd "$build" && ctest -R "$1" -j"$jobs" --timeout 120 >"$work/tests.log" 2>&1) || true
  if ! grep -q 'tests passed' "$work/tests.log"; then
    echo "(ctest did not run: see $work/tests.log)"
  elif [ -f "$failed" ]; then
    sed 's/^[0-9]*://' "$failed" | tr '\n' ' ' | sed 's/ $//'
  fi
  return 0
}

echo "== the unmutated copy must pass every chosen test"
ctest_union="" all_extras="" pytests=()
for i in "${!names[@]}"; do
  if [[ ${selections[$i]} == pytest:* ]]; then
    pytests+=("${selections[$i]}")
  else
    ctest_union=${ctest_union:+$ctest_union|}${selections[$i]}
  fi
  all_extras=${all_extras:+$all_extras,}${extras[$i]}
done
# One build for them all (the Python module too, when a pytest: selection asks).
if ! build_for "${ctest_union:-^$}" "$all_extras" ||
   { [ ${#pytests[@]} -gt 0 ] && ! build_for "${pytests[0]}" ""; }; then
  tail -30 "$work/build.log"
  echo "run.sh: the unmutated copy does not build" >&2
  exit 2
fi
for sel in ${ctest_union:+"$ctest_union"} ${pytests[@]+"${pytests[@]}"}; do
  base=$(run_selection "$sel")
  if [ -n "$base" ]; then
    cat "$work/tests.log"
    echo "run.sh: the unmutated copy fails: $base" >&2
    exit 2
  fi
done

# ---- the mutants ---------------------------------------------------------------------
applied=""
revert() {
  if [ -n "$applied" ]; then
    patch -d "$src" -p1 -R --silent <"$here/$applied" || true
    applied=""
  fi
}
trap revert EXIT
trap 'exit 130' INT TERM

rows=() survived=0 broken=0
for i in "${!names[@]}"; do
  name=${names[$i]} patch=${patches[$i]} selection=${selections[$i]}
  t0=$(date +%s%N)
  if ! patch -d "$src" -p1 --forward --silent <"$here/$patch" >"$work/patch.log" 2>&1; then
    cat "$work/patch.log"
    patch -d "$src" -p1 -R --silent <"$here/$patch" >/dev/null 2>&1 || true
    killed="ERROR: the patch does not apply"
    broken=$((broken + 1))
  else
    applied=$patch
    if ! build_for "$selection" "${extras[$i]}"; then
      tail -20 "$work/build.log"
      killed="ERROR: does not build"
      broken=$((broken + 1))
    else
      killed=$(run_selection "$selection")
      case $killed in
        '') killed="SURVIVED"; survived=$((survived + 1)) ;;
        '('*) broken=$((broken + 1)) ;;
      esac
    fi
    revert
  fi
  secs=$((($(date +%s%N) - t0) / 1000000000))
  rows+=("$name|$killed|$secs")
  printf '   %-30s %s (%d s)\n' "$name" "$killed" "$secs"
done

echo
printf '%-30s | %-58s | %s\n' mutant "killed by" seconds
printf '%s-|-%s-|-%s\n' "$(printf '%.0s-' {1..30})" "$(printf '%.0s-' {1..58})" "-------"
for r in "${rows[@]}"; do
  IFS='|' read -r n k s <<<"$r"
  printf '%-30s | %-58s | %s\n' "$n" "$k" "$s"
done
echo
echo "$((${#names[@]} - survived - broken)) of ${#names[@]} mutants killed, $survived survived," \
     "$broken could not be checked"
[ $broken -eq 0 ] || exit 2
[ $survived -eq 0 ] || exit 1
exit 0
