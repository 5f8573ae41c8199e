# bash completion for acmpca (installed as share/bash-completion/completions/acmpca).
# Operation names and their members come from acmpca itself (call --list,
# call OP --help), so they always match the installed version.

_acmpca_flags() {
    case $1 in
    issue) echo "--ca --cn --dns --ip --uri --email --key-type --days --not-after --template
                 --signing-algorithm --csr --out --cert --key --chain --fullchain --force
                 --discard-pending" ;;
    renew) echo "--cert --key --before --reuse-key --post-hook --ca --days --chain --fullchain
                 --force --discard-pending --daemon --interval --syslog" ;;
    revoke) echo "--ca --cert --serial --reason" ;;
    create) echo "--cn --org --ou --country --state --locality --key-type --parent --validity
                  --crl-bucket --path-len --tag" ;;
    delete) echo "--ca --days" ;;
    describe | disable | enable | restore) echo "--ca" ;;
    call) echo "--input --all --list --help" ;;
    esac
}

_acmpca() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local global="--region --profile --endpoint-url --ca-bundle --no-verify-ssl --max-attempts
                  --output --query --debug --verbose --version --help"
    local cmd="" sub="" op="" i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
        --region | --profile | --endpoint-url | --ca-bundle | --max-attempts | --output | --query)
            ((i++)) ;;
        -*) ;;
        *)
            if [[ -z $cmd ]]; then cmd=$w
            elif [[ $cmd == ca && -z $sub ]]; then sub=$w
            elif [[ $cmd == call && -z $op ]]; then op=$w
            fi ;;
        esac
    done

    case $prev in
    --output) COMPREPLY=($(compgen -W "json text table" -- "$cur")); return ;;
    --key-type) COMPREPLY=($(compgen -W "ec256 ec384 rsa2048 rsa3072 rsa4096" -- "$cur")); return ;;
    --reason)
        COMPREPLY=($(compgen -W "unspecified keyCompromise cACompromise affiliationChanged
                     superseded cessationOfOperation privilegeWithdrawn aACompromise" -- "$cur"))
        return ;;
    --cert | --key | --chain | --fullchain | --csr | --ca-bundle | --input)
        COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --out) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --region | --profile | --endpoint-url | --max-attempts | --query | --ca | --cn | --dns | \
    --ip | --uri | --email | --days | --not-after | --template | --serial | --before | --post-hook | \
    --interval | --parent | --validity | --tag | --org | --ou | --country | --state | \
    --locality | --crl-bucket | --path-len | --signing-algorithm)
        return ;;
    esac

    local words
    case $cmd in
    "") words="issue renew revoke ca call help $global" ;;
    help) words="issue renew revoke ca call" ;;
    ca)
        if [[ -z $sub ]]; then words="create list describe disable enable delete restore"
        elif [[ $sub == create && ${COMP_WORDS[*]} != *" root "* && ${COMP_WORDS[*]} != *" subordinate "* ]]; then
            words="root subordinate $(_acmpca_flags create)"
        else words="$(_acmpca_flags "$sub") $global"
        fi ;;
    call)
        if [[ -z $op ]]; then words="$(${COMP_WORDS[0]} call --list 2>/dev/null) --list"
        else words="$(${COMP_WORDS[0]} call "$op" --help 2>/dev/null |
                      sed -n 's/^  \(--[A-Za-z0-9]*\).*/\1/p') --input --all $global"
        fi ;;
    *) words="$(_acmpca_flags "$cmd") $global" ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

complete -o default -F _acmpca acmpca
