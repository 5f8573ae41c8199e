#!/bin/sh
# The bash and zsh completion scripts offer what acmpca accepts, asking the
# binary itself for the operations and their members.
#
#   sh tests/cli/completions.sh path/to/acmpca
set -eu
A=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
C=$(cd "$(dirname "$0")/../../cli/completions" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

# bash_complete WORDS...: what bash offers for the last word.
bash_complete() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _acmpca; echo "${COMPREPLY[*]}"' \
        _ "$C/acmpca.bash" "$A" "$@"
}
[ "$(bash_complete is)" = "issue" ] || fail "bash: command: $(bash_complete is)"
[ "$(bash_complete ca cr)" = "create" ] || fail "bash: ca sub-command"
[ "$(bash_complete ca create su)" = "subordinate" ] || fail "bash: ca create type"
[ "$(bash_complete call get-certificate-authority-c)" = "get-certificate-authority-certificate get-certificate-authority-csr" ] ||
    fail "bash: operations: $(bash_complete call get-certificate-authority-c)"
[ "$(bash_complete call describe-certificate-authority --Cert)" = "--CertificateAuthorityArn" ] ||
    fail "bash: members: $(bash_complete call describe-certificate-authority --Cert)"
[ "$(bash_complete issue --key-type rsa4)" = "rsa4096" ] || fail "bash: key types"
[ "$(bash_complete revoke --reason key)" = "keyCompromise" ] || fail "bash: reasons"
[ "$(bash_complete --region eu-west-1 renew --reu)" = "--reuse-key" ] || fail "bash: after a global flag"
echo "ok   bash completion"

if command -v zsh >/dev/null 2>&1; then
    zsh -n "$C/_acmpca" || fail "zsh: syntax"
    # zsh_complete WORDS...: what the function adds for the last word (compadd stubbed).
    zsh_complete() {
        zsh -c 'compadd() { [[ $1 == -a ]] && print -rl -- ${(P)2} || print -rl -- "$@" }
                _files() { print FILES }
                f=$1; shift; words=("$@"); CURRENT=$#; source $f' _ "$C/_acmpca" "$A" "$@" |
            grep -- "^$(eval echo "\${$#}")" | tr '\n' ' ' | sed 's/ $//'
    }
    [ "$(zsh_complete ca cr)" = "create" ] || fail "zsh: ca sub-command: $(zsh_complete ca cr)"
    [ "$(zsh_complete call list-t)" = "list-tags" ] || fail "zsh: operations: $(zsh_complete call list-t)"
    [ "$(zsh_complete call list-tags --Max)" = "--MaxResults" ] || fail "zsh: members"
    [ "$(zsh_complete issue --key-type ec3)" = "ec384" ] || fail "zsh: key types"
    [ "$(zsh_complete issue --out "")" = "FILES" ] || fail "zsh: --out completes folders"
    echo "ok   zsh completion"
else
    echo "skip zsh completion (no zsh)"
fi
