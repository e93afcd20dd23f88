# fish completion for git registry (git-registry).
#
# fish's Git completion forwards `git registry …` to the completions of the
# git-registry command (fish 3.2 and later; for 3.6.0, see the end of this
# file). Installed system-wide, this file is already in vendor_completions.d;
# otherwise:
#
#     git registry completion fish > ~/.config/fish/completions/git-registry.fish
#
# No Python runs on TAB: artifact names, versions, stages and tags come from
# `git for-each-ref` and `git show`.

# The command on the command line (assign is promote, rollback unassign), if there is one yet.
function __git_registry_command
    set -l tokens (commandline -opc)
    set -e tokens[1]
    for token in $tokens
        switch $token
            case '-*'
                continue
            case assign
                echo promote
            case rollback
                echo unassign
            case '*'
                echo $token
        end
        return 0
    end
    return 1
end

function __git_registry_needs_command
    not __git_registry_command >/dev/null
end

function __git_registry_using -a cmd
    set -l current (__git_registry_command)
    test "$current" = $cmd
end

# Whether option $2 of command $1 takes a value (the next word).
function __git_registry_takes_value -a cmd option
    switch "$cmd $option"
        case 'register --version' 'promote --version' 'promote --ref' 'deregister --version' \
                'check-ref --format' '* --remote' \
                'describe --rev' 'get --output' 'get -o' 'annotate --path' 'annotate --type' 'annotate --label' \
                'annotate --description' 'annotate --custom' 'annotate --add' '* -m' '* --message'
            return 0
    end
    return 1
end

# The arguments of the command so far (option values left out).
function __git_registry_args
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmd
    set -l skip 0
    for token in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if test -z "$cmd"
            switch $token
                case '-*'
                case assign
                    set cmd promote
                case rollback
                    set cmd unassign
                case '*'
                    set cmd $token
            end
            continue
        end
        switch $token
            case '--*=*'
            case '-*'
                __git_registry_takes_value $cmd $token; and set skip 1
            case '*'
                echo $token
        end
    end
end

# Completing the N-th ($2) argument of command $1.
function __git_registry_arg -a cmd n
    __git_registry_using $cmd; or return 1
    set -l tokens (commandline -opc)
    __git_registry_takes_value $cmd $tokens[-1]; and return 1
    test (count (__git_registry_args)) -eq (math $n - 1)
end

# Artifact names starting with $1: from registry tags (NAME@v…, NAME@deprecated,
# NAME#STAGE…; a/b=NAME is a/b:NAME) and, with $2 set, the top-level keys of
# the root artifacts.yaml at HEAD.
function __git_registry_names -a prefix yaml
    set -l p (string replace -a : = -- $prefix)
    begin
        # In ref patterns '*' stops at '/': a/b=NAME needs the second one.
        command git for-each-ref --format='%(refname:lstrip=2)' \
            "refs/tags/$p*" "refs/tags/$p*/**" 2>/dev/null
        if test -n "$yaml"
            command git show HEAD:artifacts.yaml 2>/dev/null | awk '
                /^["\']?[A-Za-z0-9][A-Za-z0-9_\/-]*["\']?[ \t]*:/ {
                    sub(/["\']?[ \t]*:.*/, ""); sub(/^["\']/, ""); print $0 "@"
                }'
        end
    end | awk '
        match($0, /^[A-Za-z0-9][A-Za-z0-9_\/=-]*[@#]/) {
            name = substr($0, 1, RLENGTH - 1); gsub(/=/, ":", name)
            if (!(name in seen)) { seen[name]; print name }
        }'
end

# Versions (vX.Y.Z) of artifact $1; with $2 = active, not the deregistered ones.
function __git_registry_versions -a name active
    set -l p (string replace -a : = -- $name)
    command git for-each-ref --format='%(refname:lstrip=2)' "refs/tags/$p@v*" 2>/dev/null |
        awk -v active="$active" '
        {
            version = substr($0, index($0, "@") + 1); sub(/#.*/, "", version)
            if (version ~ /!$/) { sub(/!$/, "", version); gone[version]; next }
            if (!(version in seen)) { seen[version]; order[n++] = version }
        }
        END { for (i = 0; i < n; i++) if (active == "" || !(order[i] in gone)) print order[i] }'
end

# Stages: those artifact $1 has tags for; without $1, the stages of
# .registry.yaml (or GTO's .gto) at HEAD, else every stage used by any artifact.
function __git_registry_stages -a name
    if test -z "$name"
        set -l policy (begin
                command git show HEAD:.registry.yaml; or command git show HEAD:.gto
            end 2>/dev/null | awk '
            function emit(text,   n, i, parts) {
                gsub(/[][ \t"\']/, "", text); n = split(text, parts, ",")
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
            block { exit }')
        if set -q policy[1]
            printf '%s\n' $policy
            return
        end
    end
    set -l patterns 'refs/tags/*#*' 'refs/tags/**/*#*'
    test -n "$name"; and set patterns "refs/tags/"(string replace -a : = -- $name)"#*"
    command git for-each-ref --format='%(refname:lstrip=2)' $patterns 2>/dev/null | awk '
        match($0, /^[A-Za-z0-9][A-Za-z0-9_\/=-]*#/) {
            stage = substr($0, RLENGTH + 1); sub(/[!#].*/, "", stage)
            if (stage != "" && !(stage in seen)) { seen[stage]; print stage }
        }'
end

# An artifact, for the word being completed: NAME, or NAME@VERSION, NAME#STAGE.
# $1 lists the forms: y = also names from artifacts.yaml, v = versions after
# '@' (a = active ones only, l = also latest), s = stages after '#', @ = NAME@.
function __git_registry_artifact -a forms
    set -l word (commandline -ct)
    if string match -q '*v*' -- $forms; and string match -q '*@*' -- $word
        set -l name (string split -m1 @ -- $word)[1]
        set -l active
        string match -q '*a*' -- $forms; and set active active
        for v in (__git_registry_versions $name $active)
            echo $name@$v
        end
        string match -q '*l*' -- $forms; and echo $name@latest
    else if string match -q '*s*' -- $forms; and string match -q '*#*' -- $word
        set -l name (string split -m1 '#' -- $word)[1]
        for stage in (__git_registry_stages $name)
            echo $name#$stage
        end
    else
        set -l yaml
        string match -q '*y*' -- $forms; and set yaml yaml
        set -l suffix ''
        string match -q '*@*' -- $forms; and set suffix @
        for name in (__git_registry_names $word $yaml)
            echo $name$suffix
        end
    end
end

# The stages the artifact (first argument) has tags for.
function __git_registry_artifact_stages
    set -l name (string replace -r '[@#].*' '' -- (__git_registry_args)[1])
    __git_registry_stages $name
end

# A remote (as the first argument), or an artifact.
function __git_registry_remote_or_artifact
    if test (count (__git_registry_args)) -eq 0
        command git remote 2>/dev/null
    end
    __git_registry_artifact
end

function __git_registry_tags
    set -l word (commandline -ct)
    if string match -q 'refs/*' -- $word
        command git for-each-ref --format='%(refname)' "$word*" "$word*/**" 2>/dev/null
    else
        command git for-each-ref --format='%(refname:lstrip=2)' \
            "refs/tags/$word*" "refs/tags/$word*/**" 2>/dev/null
    end
end

# A commit: HEAD, branches and remote-tracking branches (not the many tags).
function __git_registry_refs
    echo HEAD
    command git for-each-ref --format='%(refname:short)' refs/heads refs/remotes 2>/dev/null
end

function __git_registry_active_versions
    __git_registry_versions (string replace -r '[@#].*' '' -- (__git_registry_args)[1]) active
end

set -l c complete -c git-registry

# Commands.
$c -f -n __git_registry_needs_command -a register -d 'register a version (NAME@vX.Y.Z)'
$c -f -n __git_registry_needs_command -a promote -d 'assign a stage to a version'
$c -f -n __git_registry_needs_command -a assign -d 'assign a stage (alias of promote)'
$c -f -n __git_registry_needs_command -a unassign -d 'take a stage away from a version'
$c -f -n __git_registry_needs_command -a rollback -d 'take a stage away (alias of unassign)'
$c -f -n __git_registry_needs_command -a deregister -d 'deregister a version'
$c -f -n __git_registry_needs_command -a deprecate -d 'deprecate an artifact'
$c -f -n __git_registry_needs_command -a show -d 'show the registry, an artifact or a version'
$c -f -n __git_registry_needs_command -a history -d 'every registry event, newest first'
$c -f -n __git_registry_needs_command -a diff -d 'what changes between two versions'
$c -f -n __git_registry_needs_command -a which -d 'the version in a stage'
$c -f -n __git_registry_needs_command -a latest -d 'the latest version'
$c -f -n __git_registry_needs_command -a get -d "download a version's file or folder"
$c -f -n __git_registry_needs_command -a check-ref -d 'what a registry tag means (for CI)'
$c -f -n __git_registry_needs_command -a at -d 'the versions on a commit, or whose commits contain it'
$c -f -n __git_registry_needs_command -a fetch -d 'fetch registry tags from a remote'
$c -f -n __git_registry_needs_command -a push -d 'push the registry tags a remote lacks'
$c -f -n __git_registry_needs_command -a stages -d 'list the stages'
$c -f -n __git_registry_needs_command -a policy -d 'print the effective policy'
$c -f -n __git_registry_needs_command -a describe -d "an artifact's annotation"
$c -f -n __git_registry_needs_command -a annotate -d "edit an artifact's entry in artifacts.yaml"
$c -f -n __git_registry_needs_command -a remove -d "remove an artifact's entry from artifacts.yaml"
$c -f -n __git_registry_needs_command -a check -d 'validate tags, artifacts.yaml and the policy'
$c -f -n __git_registry_needs_command -a schema -d 'print the JSON Schema of artifacts.yaml (or .registry.yaml)'
$c -f -n __git_registry_needs_command -a hooks -d 'install, remove or list the Git hooks'
$c -f -n __git_registry_needs_command -a hook -d "run a hook's checks"
$c -f -n __git_registry_needs_command -a completion -d 'print the shell completion script'
$c -f -n __git_registry_needs_command -a help -d "print a command's help"
$c -f -n __git_registry_needs_command -a demo -d 'build an example registry and show it'
$c -f -n __git_registry_needs_command -a site -d 'write the registry as a static site'
$c -f -n __git_registry_needs_command -l version -d 'print the version'

# Options of every command.
$c -f -s h -l help -d 'show help'
$c -f -l color -x -a 'always auto never' -d 'colour human output'
$c -f -l no-color -d 'do not colour output'

# Each command's options (tests/test_completion.py keeps them in step with
# `git registry COMMAND -h`) and arguments.
set -l n '__git_registry_using register'
$c -f -n $n -l version -l ver -x -d 'the version (vX.Y.Z)'
$c -f -n $n -l simple -d "GTO's (a registration has no counter)"
$c -n $n -s r -l repo -x -a '(__fish_complete_directories)' -d "run in the repository at PATH (GTO's -r)"
$c -f -n $n -l bump-major -d 'bump the major version'
$c -f -n $n -l bump-minor -d 'bump the minor version'
$c -f -n $n -l bump-patch -d 'bump the patch version'
$c -f -n $n -l force -d 'register on a commit holding a deregistered version (GTO cannot read it)'
$c -f -n $n -l new -d 'start a new artifact even if its name is one edit from an existing one'
$c -f -n $n -s m -l message -x -d 'tag message'
$c -f -n $n -l metric -x -d 'a metric KEY=NUMBER (a Registry-Metric trailer)'
$c -f -n $n -l meta -x -d 'metadata KEY=VALUE (a Registry-Meta trailer)'
$c -f -n $n -l push -d 'push the new tag'
$c -f -n $n -s n -l dry-run -d 'print the tags and the rules checked; create nothing'
$c -f -n $n -s s -l sign -d 'sign the tags, as git tag -s'
$c -f -n $n -l no-sign -d 'do not sign the tags'
$c -f -n '__git_registry_arg register 1' -a '(__git_registry_artifact y)'
$c -f -n '__git_registry_arg register 2' -a '(__git_registry_refs)'

set n '__git_registry_using promote'
$c -f -n $n -l version -x -a '(__git_registry_active_versions)' -d 'version to promote'
$c -f -n $n -l ref -x -a '(__git_registry_refs)' -d 'promote the version at this commit'
$c -f -n $n -l stage -x -a '(__git_registry_stages)' -d "GTO's form: the stage; the operand after NAME is REF"
$c -f -n $n -l simple -d 'create NAME#STAGE without a counter (GTO: --simple true|false|auto)'
$c -f -n $n -l sr -l skip-registration -d "GTO's (refused)"
$c -n $n -s r -l repo -x -a '(__fish_complete_directories)' -d "run in the repository at PATH (GTO's -r)"
$c -f -n $n -l force -d 'assign even if the version holds the stage, or GTO cannot read the tag'
$c -f -n $n -l new -d 'start a new stage or artifact even if one edit from an existing one'
$c -f -n $n -s m -l message -x -d 'tag message'
$c -f -n $n -l push -d 'push the new tags'
$c -f -n $n -s n -l dry-run -d 'print the tags and the rules checked; create nothing'
$c -f -n $n -s s -l sign -d 'sign the tags, as git tag -s'
$c -f -n $n -l no-sign -d 'do not sign the tags'
$c -f -n '__git_registry_arg promote 1' -a '(__git_registry_artifact va)'
$c -f -n '__git_registry_arg promote 2' -a '(__git_registry_stages)'

set n '__git_registry_using unassign'
$c -f -n $n -l delete -d "delete the stage's tags of the version instead"
$c -f -n $n -l simple -d 'create NAME#STAGE! without a counter (GTO: --simple true|false|auto)'
$c -f -n $n -l force -d 'unassign even if the version is not in the stage, or GTO cannot read the tag'
$c -f -n $n -s m -l message -x -d 'tag message'
$c -f -n $n -l push -d 'push the new tag'
$c -f -n $n -s n -l dry-run -d 'print the tags and the rules checked; create nothing'
$c -f -n $n -s s -l sign -d 'sign the tags, as git tag -s'
$c -f -n $n -l no-sign -d 'do not sign the tags'
$c -f -n '__git_registry_arg unassign 1' -a '(__git_registry_artifact va)'
$c -f -n '__git_registry_arg unassign 2' -a '(__git_registry_artifact_stages)'

set n '__git_registry_using deregister'
$c -f -n $n -l version -x -a '(__git_registry_active_versions)' -d 'the version, if NAME has none'
$c -f -n $n -l delete -d 'delete every tag of the version instead'
$c -f -n $n -l force -d 'deregister even if already deregistered'
$c -f -n $n -s m -l message -x -d 'tag message'
$c -f -n $n -l push -d 'push the new tag'
$c -f -n $n -s n -l dry-run -d 'print the tags and the rules checked; create nothing'
$c -f -n $n -s s -l sign -d 'sign the tags, as git tag -s'
$c -f -n $n -l no-sign -d 'do not sign the tags'
$c -f -n '__git_registry_arg deregister 1' -a '(__git_registry_artifact va@)'

set n '__git_registry_using deprecate'
$c -f -n $n -s d -l delete -d 'delete every tag of the artifact instead'
$c -f -n $n -l ref -x -a '(__git_registry_refs)' -d 'deprecate at this commit'
$c -f -n $n -l simple -d "with STAGE: NAME#STAGE! without a counter"
$c -f -n $n -l force -d 'deprecate even if deprecated or unknown'
$c -n $n -s r -l repo -x -a '(__fish_complete_directories)' -d "run in the repository at PATH (GTO's -r)"
$c -f -n $n -s m -l message -x -d 'tag message'
$c -f -n $n -l push -d 'push the new tag'
$c -f -n $n -s n -l dry-run -d 'print the tags and the rules checked; create nothing'
$c -f -n $n -s s -l sign -d 'sign the tags, as git tag -s'
$c -f -n $n -l no-sign -d 'do not sign the tags'
$c -f -n '__git_registry_arg deprecate 1' -a '(__git_registry_artifact)'

set n '__git_registry_using show'
$c -f -n $n -l remote -x -a '(command git remote 2>/dev/null)' -d "read this remote's registry"
$c -f -n $n -l json -d "print JSON (--json=gto: GTO's shape)"
$c -f -n $n -l plain -d "GTO's grep-able table"
$c -f -n $n -l ref -d 'print only the tag'
$c -f -n $n -l version -d 'print only the version'
$c -f -n $n -l commit -d 'print only the commit'
$c -f -n $n -l name -d 'print only the name (GTO)'
$c -f -n $n -l stage -a '(__git_registry_stages)' -d 'S: only artifacts with a version in stage S; alone: print only the stages (GTO)'
$c -f -n $n -l type -x -d 'only artifacts of this type'
$c -f -n $n -l label -x -d 'only artifacts with this label'
$c -f -n $n -s d -l all -l deprecated -d 'include deprecated artifacts and deregistered versions'
$c -f -n $n -l all-versions -d 'every version holding a stage'
$c -f -n $n -l metric -x -d "sort NAME's versions by this metric, highest first"
$c -f -n $n -l sort -x -a 'timestamp semver' -d "GTO's: the version shown in a stage"
$c -f -n $n -l ro -l registered-only -d "GTO's (changes nothing)"
$c -n $n -s r -l repo -x -a '(__fish_complete_directories)' -d "run in the repository at PATH (GTO's -r)"
$c -f -n '__git_registry_arg show 1' -a '(__git_registry_artifact vls)'

set n '__git_registry_using diff'
$c -f -n $n -l json -d 'print JSON'
$c -f -n $n -l max-count -x -d 'list at most N commits each way'
$c -f -n '__git_registry_arg diff 1' -a '(__git_registry_artifact vls)'
$c -f -n '__git_registry_arg diff 2' -a '(__git_registry_artifact vls)'

set n '__git_registry_using history'
$c -f -n $n -l remote -x -a '(command git remote 2>/dev/null)' -d "read this remote's registry"
$c -f -n $n -l json -d "print JSON (--json=gto: GTO's shape)"
$c -f -n $n -l plain -d "GTO's grep-able table"
$c -f -n $n -l graph -d 'draw the lifecycle: one lane per stage'
$c -f -n $n -l ascii -d 'draw --graph with ASCII'
$c -f -n $n -l ascending -l asc -d 'oldest first'
$c -f -n $n -l since -x -d 'only events tagged at or after DATE'
$c -f -n $n -l until -x -d 'only events tagged at or before DATE'
$c -f -n $n -l by -x -d "only events whose tagger's name or email holds WHO"
$c -n $n -s r -l repo -x -a '(__fish_complete_directories)' -d "run in the repository at PATH (GTO's -r)"
$c -f -n '__git_registry_arg history 1' -a '(__git_registry_artifact)'

set n '__git_registry_using which'
$c -f -n $n -l remote -x -a '(command git remote 2>/dev/null)' -d "read this remote's registry"
$c -f -n $n -l ref -d 'print the assignment tag'
$c -f -n $n -l all-versions -d 'every version holding the stage'
$c -f -n $n -l all -d 'print it even if the artifact is deprecated'
$c -f -n $n -l json -d 'print JSON'
$c -f -n '__git_registry_arg which 1' -a '(__git_registry_artifact)'
$c -f -n '__git_registry_arg which 2' -a '(__git_registry_artifact_stages)'

set n '__git_registry_using latest'
$c -f -n $n -l remote -x -a '(command git remote 2>/dev/null)' -d "read this remote's registry"
$c -f -n $n -l ref -d "print the version's tag"
$c -f -n $n -l all -d 'print it even if the artifact is deprecated'
$c -f -n $n -l json -d 'print JSON'
$c -f -n '__git_registry_arg latest 1' -a '(__git_registry_artifact)'

set n '__git_registry_using get'
$c -n $n -s o -l output -r -d 'write here (a PATH ending in / is a folder)'
$c -f -n $n -s f -l force -d 'replace PATH if it exists'
$c -f -n $n -l all -d "a deprecated artifact's version, or a deregistered one"
$c -f -n $n -l print-url -d 'print what would be fetched, write nothing'
$c -f -n $n -l json -d 'print JSON'
$c -f -n $n -s q -l quiet -d 'no progress bar'
$c -f -n '__git_registry_arg get 1' -a '(__git_registry_artifact vls)'

set n '__git_registry_using check-ref'
$c -f -n $n -l json -d "print JSON (--json=gto: GTO's shape)"
$c -f -n $n -l format -x -a 'text json github env dotenv' -d 'output format'
$c -f -n $n -l name -d 'print only the name (GTO)'
$c -f -n $n -l version -d 'print only the version (GTO)'
$c -f -n $n -l stage -d 'print only the stage (GTO)'
$c -f -n $n -l event -d 'print only the event (GTO)'
$c -n $n -s r -l repo -x -a '(__fish_complete_directories)' -d "run in the repository at PATH (GTO's -r)"
$c -f -n $n -l allow-other -d 'exit 0 when REF is not a registry event'
$c -f -n $n -l fetch -d "fetch the artifact's registry tags first"
$c -f -n $n -l verify -d "judge the tag as the server's pre-receive hook would"
$c -f -n '__git_registry_arg check-ref 1' -a '(__git_registry_tags)'

set n '__git_registry_using at'
$c -f -n $n -l contains -d 'the versions whose commits contain REV'
$c -f -n $n -l json -d 'print JSON'
$c -f -n '__git_registry_arg at 1' -a '(__git_registry_refs)'

set n '__git_registry_using fetch'
$c -f -n $n -a '(__git_registry_remote_or_artifact)'

set n '__git_registry_using push'
$c -f -n $n -l renumber -d 'renumber the unpushed tags whose #N the remote took, then push'
$c -f -n $n -s n -l dry-run -d 'list what would be pushed'
$c -f -n $n -a '(__git_registry_remote_or_artifact)'

set n '__git_registry_using stages'
$c -f -n $n -l used -d 'every stage ever used'
$c -f -n $n -l allowed -d 'the allow-list only'
$c -f -n $n -l json -d "print JSON (--json=gto: GTO's shape)"
$c -n $n -s r -l repo -x -a '(__fish_complete_directories)' -d "run in the repository at PATH (GTO's -r)"

set n '__git_registry_using policy'
$c -f -n $n -l remote -x -a '(command git remote 2>/dev/null)' -d "the policy of this remote's default branch"
$c -f -n $n -l json -d 'print JSON'

set n '__git_registry_using schema'
$c -f -n $n -l policy -d 'the JSON Schema of .registry.yaml'

set n '__git_registry_using describe'
$c -f -n $n -l rev -x -a '(__git_registry_refs)' -d 'read it at this commit'
$c -f -n $n -l all -d 'NAME@latest or NAME#STAGE even if the artifact is deprecated'
$c -f -n $n -l json -d 'print JSON'
$c -f -n $n -l path -d 'print only the path'
$c -f -n $n -l type -d 'print only the type'
$c -f -n $n -l description -d 'print only the description'
$c -f -n '__git_registry_arg describe 1' -a '(__git_registry_artifact vls)'

set n '__git_registry_using annotate'
$c -n $n -l path -r -d 'file or folder, or URL'
$c -f -n $n -l type -x -d 'type, e.g. model or dataset'
$c -f -n $n -l label -x -d 'add a label'
$c -f -n $n -l description -x -d 'free text'
$c -f -n $n -l custom -x -d 'set custom.KEY=VALUE (YAML value)'
$c -f -n $n -l virtual -d 'the path need not exist'
$c -f -n $n -l no-virtual -d 'the path must exist in the commit'
$c -f -n $n -l commit -d 'commit the file'
$c -f -n $n -s m -l message -x -d 'commit message'
$c -n $n -l add -r -d 'with --commit: commit this file or folder too'
$c -f -n $n -l push -d 'push the commit'
$c -f -n '__git_registry_arg annotate 1' -a '(__git_registry_artifact y)'

set n '__git_registry_using remove'
$c -f -n $n -l commit -d 'commit the file'
$c -f -n $n -s m -l message -x -d 'commit message'
$c -f -n $n -l push -d 'push the commit'
$c -f -n '__git_registry_arg remove 1' -a '(__git_registry_artifact y)'

set n '__git_registry_using check'
$c -f -n $n -l worktree -d "check the work tree's artifacts.yaml files and policy"
$c -f -n $n -l gto -d 'exit 1 on GTO 1.10.1 compatibility warnings too'
$c -f -n $n -l json -d 'print JSON'

set n '__git_registry_using hooks'
$c -f -n $n -l server -d 'install the server hooks (pre-receive, reference-transaction)'
$c -f -n $n -l force -d 'set a foreign hook aside instead of chaining it'
$c -f -n '__git_registry_arg hooks 1' -a 'install uninstall status'

$c -f -n '__git_registry_arg hook 1' -a 'pre-push commit-msg pre-receive update reference-transaction'
$c -f -n '__git_registry_arg completion 1' -a 'bash zsh fish'
set n '__git_registry_using help'
$c -f -n $n -s m -l man -d 'show the packaged manual page'
$c -f -n '__git_registry_arg help 1' -a 'register promote assign unassign deregister deprecate
    show history diff which latest get check-ref at stages policy describe annotate remove check schema hooks
    hook completion help demo site fetch push'
$c -n '__git_registry_arg demo 1' -a '(__fish_complete_directories)'
set n '__git_registry_using site'
$c -f -n $n -l force -d 'write into a folder holding other files (kept)'
$c -f -n $n -l title -x -d "the index's title"
$c -f -n $n -l remote -x -a '(command git remote 2>/dev/null)' -d "read this remote's registry"
$c -n '__git_registry_arg site 1' -a '(__fish_complete_directories)'

# fish 3.6.0 forwards `git foo` to the completions of git-foo under a wrong
# name (fish issue 9457, fixed in 3.6.1): there, forward `git registry` here.
# It takes effect once this file is loaded: installed with pip, fish reads
# git-registry-conf.fish (in share/fish/vendor_conf.d) at start-up, which does
# the same; else save this file in ~/.config/fish/conf.d/ instead of completions/.
if test "$version" = 3.6.0
    complete -c git -f -n '__fish_git_using_command registry' \
        -a '(__fish_git_complete_custom_command registry)'
end
