# bash completion for git registry (git-registry)              -*- shell-script -*-
#
# Git's own completion (git-completion.bash) completes `git registry <TAB>` by
# calling _git_registry; it loads this file on demand through bash-completion's
# loader, which looks for completions/git-registry{,.bash} under
# ~/.local/share/bash-completion and $XDG_DATA_DIRS/bash-completion. Installed
# system-wide or with `pip install --user`, there is nothing to do. Otherwise
# add one line to ~/.bashrc:
#
#     source <(git registry completion bash)
#
# No Python runs on TAB: artifact names, versions, stages and tags come from
# `git for-each-ref` and `git show`, through Git's helpers (__git honours
# `git -C DIR` and `--git-dir` on the command line).

# The commands, and each command's long options (tests/test_completion.py keeps
# these in step with `git registry COMMAND -h`). __git_registry_args_* are the
# options that take a value.
__git_registry_commands="register promote assign unassign rollback deregister deprecate show history diff
which latest get check-ref at fetch push stages policy describe annotate remove check schema hooks
hook completion help demo site"
__git_registry_opts_register="--version --ver --bump-major --bump-minor --bump-patch --new --force --simple
--message --metric --meta --push --dry-run --sign --no-sign --repo"
__git_registry_args_register="--version --ver --message -m --metric --meta --repo -r"
__git_registry_opts_promote="--version --ref --stage --simple --force --new --sr --skip-registration
--message --push --dry-run --sign --no-sign --repo"
__git_registry_args_promote="--version --ref --stage --message -m --repo -r"
__git_registry_opts_unassign="--delete --simple --force --message --push --dry-run --sign --no-sign"
__git_registry_args_unassign="--message -m"
__git_registry_opts_deregister="--version --delete --force --message --push --dry-run --sign
--no-sign"
__git_registry_args_deregister="--version --message -m"
__git_registry_opts_deprecate="--delete --ref --simple --force --message --push --dry-run --sign
--no-sign --repo"
__git_registry_args_deprecate="--ref --message -m --repo -r"
__git_registry_opts_show="--json --plain --ref --version --commit --name --stage --all --deprecated
--all-versions --metric --type --label --sort --ro --registered-only --remote --repo"
__git_registry_args_show="--metric --type --label --sort --remote --repo -r"
__git_registry_opts_history="--json --plain --graph --ascii --ascending --asc --since --until --by --remote --repo"
__git_registry_args_history="--since --until --by --remote --repo -r"
__git_registry_opts_diff="--json --max-count"
__git_registry_args_diff="--max-count"
__git_registry_opts_which="--ref --all-versions --all --json --remote"
__git_registry_args_which="--remote"
__git_registry_opts_latest="--ref --all --json --remote"
__git_registry_args_latest="--remote"
__git_registry_opts_get="--output --force --all --print-url --json --quiet"
__git_registry_args_get="--output -o"
__git_registry_opts_check_ref="--json --name --version --stage --event --format --allow-other --fetch
--verify --repo"
__git_registry_args_check_ref="--format --repo -r"
__git_registry_opts_at="--contains --json"
__git_registry_opts_fetch=""
__git_registry_opts_push="--renumber --dry-run"
__git_registry_opts_stages="--used --allowed --json --repo"
__git_registry_args_stages="--repo -r"
__git_registry_opts_policy="--remote --json"
__git_registry_args_policy="--remote"
__git_registry_opts_describe="--rev --all --json --path --type --description"
__git_registry_args_describe="--rev"
__git_registry_opts_annotate="--path --type --label --description --custom --virtual --no-virtual
--commit --message --add --push"
__git_registry_args_annotate="--path --type --label --description --custom --message -m --add"
__git_registry_opts_remove="--commit --message --push"
__git_registry_args_remove="--message -m"
__git_registry_opts_check="--worktree --gto --json"
__git_registry_opts_schema="--policy"
__git_registry_opts_hooks="--server --force"
__git_registry_opts_hook=""
__git_registry_opts_completion=""
__git_registry_opts_help="--man"
__git_registry_opts_demo=""
__git_registry_opts_site="--force --title --remote"
__git_registry_args_site="--title --remote"

# Artifact names that start with $1: from registry tags (NAME@v…, NAME@deprecated,
# NAME#STAGE…; a/b=NAME is a/b:NAME) and, with $2 set, the top-level keys of the
# root artifacts.yaml at HEAD (artifacts annotated but not registered yet).
__git_registry_names ()
{
	{
		# In ref patterns '*' stops at '/': a/b=NAME needs the second one.
		__git for-each-ref --format='%(refname:lstrip=2)' \
			"refs/tags/${1//:/=}*" "refs/tags/${1//:/=}*/**"
		if [ -n "${2-}" ]; then
			__git show HEAD:artifacts.yaml | awk '
				/^["'\'']?[A-Za-z0-9][A-Za-z0-9_\/-]*["'\'']?[ \t]*:/ {
					sub(/["'\'']?[ \t]*:.*/, ""); sub(/^["'\'']/, ""); print $0 "@"
				}'
		fi
	} | awk '
		match($0, /^[A-Za-z0-9][A-Za-z0-9_\/=-]*[@#]/) {
			name = substr($0, 1, RLENGTH - 1); gsub(/=/, ":", name)
			if (!(name in seen)) { seen[name]; print name }
		}'
}

# Versions (vX.Y.Z) of artifact $1; with $2 = active, not the deregistered ones.
__git_registry_versions ()
{
	__git for-each-ref --format='%(refname:lstrip=2)' "refs/tags/${1//:/=}@v*" |
	awk -v active="${2-}" '
		{
			version = substr($0, index($0, "@") + 1); sub(/#.*/, "", version)
			if (version ~ /!$/) { sub(/!$/, "", version); gone[version]; next }
			if (!(version in seen)) { seen[version]; order[n++] = version }
		}
		END { for (i = 0; i < n; i++) if (active == "" || !(order[i] in gone)) print order[i] }'
}

# Stages: those artifact $1 has tags for; without $1, the stages of .registry.yaml
# (or GTO's .gto) at HEAD, else every stage used by any artifact.
__git_registry_stages ()
{
	local policy=""
	if [ -z "${1-}" ]; then
		policy="$({ __git show HEAD:.registry.yaml || __git show HEAD:.gto; } | awk '
			function emit(text,   n, i, parts) {
				gsub(/[][ \t"'\'']/, "", text); n = split(text, parts, ",")
				for (i = 1; i <= n; i++) if (parts[i] != "") print parts[i]
			}
			{ sub(/[ \t]*#.*/, "") }
			flow { buffer = buffer $0; if (index($0, "]")) { emit(buffer); exit }; next }
			/^stages[ \t]*:/ {
				value = $0; sub(/^stages[ \t]*:[ \t]*/, "", value)
				if (value ~ /^\[/) {
					if (index(value, "]")) { emit(value); exit }
					flow = 1; buffer = value; next
				}
				block = 1; next
			}
			block && /^[ \t]*-/ { sub(/^[ \t]*-[ \t]*/, ""); emit($0); next }
			block && /^[ \t]*$/ { next }
			block { exit }')"
		if [ -n "$policy" ]; then
			echo "$policy"
			return
		fi
	fi
	local patterns=("refs/tags/*#*" "refs/tags/**/*#*")
	[ -n "${1-}" ] && patterns=("refs/tags/${1//:/=}#*")
	__git for-each-ref --format='%(refname:lstrip=2)' "${patterns[@]}" |
	awk '
		match($0, /^[A-Za-z0-9][A-Za-z0-9_\/=-]*#/) {
			stage = substr($0, RLENGTH + 1); sub(/[!#].*/, "", stage)
			if (stage != "" && !(stage in seen)) { seen[stage]; print stage }
		}'
}

# Git's helpers put back together the words bash split at '=' and ':' (a/b:name,
# --color=auto), not at '@', which is in bash's default COMP_WORDBREAKS too:
# there `churn@v1` is three words, churn, @ and v1. Join them again (a word of
# '@'s glues to the words either side, as Git does for ':'), keeping $cword and
# $__git_cmd_idx on the same words.
__git_registry_join_at ()
{
	case "$COMP_WORDBREAKS" in
	*@*) ;;
	*) return ;;
	esac
	local i j=0 w glue="" joined=("${words[0]}") at_cword=0 at_cmd=0
	for ((i = 1; i < ${#words[@]}; i++)); do
		w="${words[i]}"
		if [ -n "$w" ] && [ -z "${w//@/}" ]; then
			joined[j]+="$w"
			glue=1
		elif [ -n "$glue" ] && [ -n "$w" ]; then
			joined[j]+="$w"
			glue=""
		else
			j=$((j + 1))
			joined[j]="$w"
			glue=""
		fi
		[ "$i" -eq "$cword" ] && at_cword=$j
		[ "$i" -eq "${__git_cmd_idx:-0}" ] && at_cmd=$j
	done
	words=("${joined[@]}")
	cword=$at_cword
	cur="${words[cword]}"
	__git_cmd_idx=$at_cmd
}

# Bash replaces only the part of the word from its last COMP_WORDBREAKS character
# (after it, or from it for '@' and '$', which readline keeps in the word it
# completes): drop what comes before from the candidates, as Git's own
# completion does for HEAD:path. Else `churn@<TAB>` would put `churn@v1.0.0`
# in place of `@`.
__git_registry_trim_wordbreaks ()
{
	local i ch cut=0
	for ((i = 0; i < ${#cur}; i++)); do
		ch="${cur:i:1}"
		case "$COMP_WORDBREAKS" in
		*"$ch"*)
			case "$ch" in
			[@\$]) cut=$i ;;
			*) cut=$((i + 1)) ;;
			esac
			;;
		esac
	done
	if [ $cut -gt 0 ] && [ ${#COMPREPLY[@]} -gt 0 ]; then
		local drop="${cur:0:cut}"
		COMPREPLY=("${COMPREPLY[@]#"$drop"}")
	fi
}

# An artifact, as NAME (followed by a space), or NAME@… ($1 = @: that is the
# only form) or NAME@VERSION / NAME#STAGE ($1 lists the forms: v = versions,
# a = active versions only, l = @latest, s = #STAGE).
__git_registry_complete_artifact ()
{
	local forms="${1-}" name
	case "$cur" in
	*@*)
		name="${cur%%@*}"
		local versions
		case "$forms" in
		*a*) versions="$(__git_registry_versions "$name" active)" ;;
		*) versions="$(__git_registry_versions "$name")" ;;
		esac
		case "$forms" in
		*l*) versions="$versions"$'\nlatest' ;;
		esac
		__gitcomp_nl "$versions" "$name@" "${cur#*@}"
		;;
	*#*)
		name="${cur%%#*}"
		case "$forms" in
		*s*) __gitcomp_nl "$(__git_registry_stages "$name")" "$name#" "${cur#*#}" ;;
		esac
		;;
	*)
		if [ "$forms" = "@" ]; then
			__gitcomp_nl "$(__git_registry_names "$cur")" "" "$cur" "@"
		else
			__gitcomp_nl "$(__git_registry_names "$cur" "${2-}")"
		fi
		;;
	esac
}

_git_registry ()
{
	__git_registry_join_at
	__git_registry_complete
	__git_registry_trim_wordbreaks
	# Nothing to offer for NAME@…: no fallback to bash's own completion either,
	# which completes a word at '@' with host names.
	if [ ${#COMPREPLY[@]} -eq 0 ]; then
		case "$cur" in
		*@*) compopt +o bashdefault +o default 2>/dev/null || : ;;
		esac
	fi
}

__git_registry_complete ()
{
	local c=$((${__git_cmd_idx:-0} + 1)) word subcommand="" value_of="" npos=0 first=""
	local args=""
	while [ $c -lt $cword ]; do
		word="${words[c]}"
		if [ -n "$value_of" ]; then
			value_of=""
		elif [ -z "$subcommand" ]; then
			case "$word" in
			-*) ;;
			*)
				subcommand="$word"
				[ "$subcommand" = assign ] && subcommand=promote
				[ "$subcommand" = rollback ] && subcommand=unassign
				local var="__git_registry_args_${subcommand//-/_}"
				args=" ${!var-} "
				;;
			esac
		else
			case "$word" in
			--*=*) ;;
			-*)
				case "$args" in
				*" $word "*) value_of="$word" ;;
				esac
				;;
			*)
				npos=$((npos + 1))
				[ $npos -eq 1 ] && first="$word"
				;;
			esac
		fi
		c=$((c + 1))
	done

	case "$cur" in
	--color=*)
		__gitcomp "always never auto" "" "${cur#--color=}"
		return
		;;
	esac
	if [ -z "$subcommand" ]; then
		case "$cur" in
		-*) __gitcomp "--color= --no-color --version --help" ;;
		*) __gitcomp "$__git_registry_commands" ;;
		esac
		return
	fi

	local artifact="${first%%[@#]*}"
	if [ -n "$value_of" ]; then
		case "$subcommand,$value_of" in
		promote,--version | deregister,--version)
			__gitcomp_nl "$(__git_registry_versions "$artifact" active)"
			;;
		promote,--ref | describe,--rev)
			__git_complete_refs
			;;
		check-ref,--format)
			__gitcomp "text json github env dotenv"
			;;
		show,--sort)
			__gitcomp "timestamp semver"
			;;
		promote,--stage)
			__gitcomp_nl "$(__git_registry_stages)"
			;;
		deprecate,--ref)
			__git_complete_refs
			;;
		*,--repo | *,-r)
			__gitcomp_nl "$(compgen -d -- "$cur")"
			;;
		get,--output | get,-o)
			__gitcomp_nl "$(compgen -f -- "$cur")"
			;;
		*,--remote)
			__gitcomp_nl "$(__git_remotes)"
			;;
		esac
		return
	fi
	case "$cur" in
	-*)
		local var="__git_registry_opts_${subcommand//-/_}"
		__gitcomp "${!var-} --color= --no-color --help"
		return
		;;
	esac

	case "$subcommand,$npos" in
	register,0 | annotate,0 | remove,0)
		__git_registry_complete_artifact "" yaml
		;;
	deprecate,0 | history,0 | which,0 | latest,0)
		__git_registry_complete_artifact ""
		;;
	register,1 | at,0)
		__git_complete_refs
		;;
	promote,0 | unassign,0)
		__git_registry_complete_artifact "va"
		;;
	deregister,0)
		if [[ $cur == *@* ]]; then
			__git_registry_complete_artifact "va"
		else
			__git_registry_complete_artifact "@"
		fi
		;;
	show,0 | describe,0 | diff,0 | diff,1 | get,0)
		__git_registry_complete_artifact "vls"
		;;
	promote,1)
		__gitcomp_nl "$(__git_registry_stages)"
		;;
	unassign,1 | which,1)
		__gitcomp_nl "$(__git_registry_stages "$artifact")"
		;;
	fetch,* | push,*)
		# [REMOTE] [NAME...]
		__git_registry_complete_artifact ""
		[ $npos -eq 0 ] && __gitcomp_nl_append "$(__git_remotes)"
		;;
	check-ref,0)
		case "$cur" in
		refs/*)
			__gitcomp_nl "$(__git for-each-ref --format='%(refname)' "$cur*" "$cur*/**")" "" ""
			;;
		*)
			__gitcomp_nl "$(__git for-each-ref --format='%(refname:lstrip=2)' \
				"refs/tags/$cur*" "refs/tags/$cur*/**")" "" ""
			;;
		esac
		;;
	hooks,0)
		__gitcomp "install uninstall status"
		;;
	hook,0)
		__gitcomp "pre-push commit-msg pre-receive update reference-transaction"
		;;
	completion,0)
		__gitcomp "bash zsh fish"
		;;
	site,0)
		__gitcomp_nl "$(compgen -d -- "$cur")"
		;;
	help,0)
		__gitcomp "$__git_registry_commands"
		;;
	esac
}

# `git-registry <TAB>` (the command run directly), when Git's completion is there.
if ! declare -F __git_complete >/dev/null 2>&1 && declare -F __load_completion >/dev/null 2>&1; then
	__load_completion git
fi
if declare -F __git_complete >/dev/null 2>&1; then
	__git_complete git-registry _git_registry
fi
