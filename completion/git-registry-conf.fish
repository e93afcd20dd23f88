# fish start-up file for git registry (git-registry), installed in
# share/fish/vendor_conf.d/ next to the completion in vendor_completions.d.
#
# fish 3.6.0's Git completion forwards `git foo` to the completions of git-foo
# under a wrong name (fish issue 9457, fixed in 3.6.1), so `git registry <TAB>`
# would offer nothing: forward it here. Completion files load on demand, too
# late for that; files in conf.d are read at start-up. This defines nothing
# else and runs nothing: fish's git.fish and git-registry.fish still load on
# the first TAB.
if test "$version" = 3.6.0
    complete -c git -f -n '__fish_git_using_command registry' \
        -a '(__fish_git_complete_custom_command registry)'
end
