function __nexla_tab --argument-names action
    env _NEXLA_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=$action \
        _TYPER_COMPLETE_ARGS=(commandline -cp) nexla
end

function __nexla_complete
    set -l answer (__nexla_tab get-args)
    if string match -q -- ':command *' $answer[1]
        set -l start (string split ' ' -- $answer[1])[2]
        set -l words (commandline -cop) (commandline -ct)
        __fish_complete_subcommand --commandline $words[(math $start + 1)..-1]
    else
        string join \n -- $answer
    end
end

complete --command nexla --no-files --arguments "(__nexla_complete)" \
    --condition "__nexla_tab is-args"

