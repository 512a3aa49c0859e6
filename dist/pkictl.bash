# bash completion for pkictl (installed as
# share/bash-completion/completions/pkictl).
_pkictl() {
	local cur=${COMP_WORDS[COMP_CWORD]} w1=${COMP_WORDS[1]} w2=${COMP_WORDS[2]}
	local cmds="ca show verify diagnose explain scep est enroll renew agent trust help version"
	case $COMP_CWORD in
	1) COMPREPLY=($(compgen -W "$cmds" -- "$cur")); return ;;
	2)
		case $w1 in
		ca) COMPREPLY=($(compgen -W "init issue chain list revoke unrevoke crl pending approve reject audit show rollover plan" -- "$cur")); return ;;
		scep) COMPREPLY=($(compgen -W "challenge ra-cert getcaps getca getnextca enroll renew" -- "$cur")); return ;;
		est) COMPREPLY=($(compgen -W "user" -- "$cur")); return ;;
		trust) COMPREPLY=($(compgen -W "bundle import list remove export status" -- "$cur")); return ;;
		enroll|renew) COMPREPLY=($(compgen -W "est scep" -- "$cur")); return ;;
		explain) COMPREPLY=($(compgen -W "--list $(pkictl explain --list 2>/dev/null | awk '{print $1}')" -- "$cur")); return ;;
		esac ;;
	3)
		case "$w1 $w2" in
		"est user") COMPREPLY=($(compgen -W "add list del passwd" -- "$cur")); return ;;
		"scep challenge") COMPREPLY=($(compgen -W "new list revoke" -- "$cur")); return ;;
		esac ;;
	esac
	case ${COMP_WORDS[COMP_CWORD-1]} in
	--dir|--store) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--csr|--out|--cert|--key|--cacert|--trust|--untrusted|--crl|--password-file|--key-out|--anchor|--sign-cert|--sign-key|--chain)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--profile|--key-uri) return ;;
	--auth) COMPREPLY=($(compgen -W "basic ntlm" -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(pkictl $w1 $w2 --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _pkictl pkictl
