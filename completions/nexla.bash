
_nexla_completion() {
    # Glue the pieces bash split at ':' or '=' with no blank between them back into one
    # word: `localhost`, `:`, `84` -> `localhost:84`; `--env`, `=`, `lo` -> `--env=lo`.
    local IFS=$'\n'
    local line=$COMP_LINE word before
    local -a words=()
    local i n=-1 cword=0
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -n $word ]]; then before=${line%%"$word"*}; else before=$line; fi
        if ((n >= 1)) && [[ -z $before ]] && [[ $word == [:=]* || ${words[n]} == *[:=] ]]; then
            words[n]+=$word
        else
            words[++n]=$word
        fi
        line=${line#"$before$word"}
        ((i == COMP_CWORD)) && cword=$n
    done
    # Bash replaces only the text after the last break: drop what comes before it.
    local raw=${COMP_WORDS[COMP_CWORD]} typed=${words[cword]}
    [[ -z ${raw//[:=]/} ]] && raw=''
    [[ $typed == -*=* ]] && typed=${typed#*=}
    local prefix=${typed%"$raw"}
    COMPREPLY=()
    while IFS= read -r word; do
        if [[ $word == :nofiles ]]; then
            # Names: when none matches, offer no files. macOS's bash 3.2 has no
            # compopt (there bash falls back to files): asked first, so never an error.
            type compopt >/dev/null 2>&1 && compopt +o default
        elif [[ $word == ":command "* ]]; then
            # `token exec -- COMMAND`: COMMAND's name as after `sudo` (commands, aliases,
            # functions; files when none matches, e.g. ./job.sh); its arguments: files.
            if ((cword == ${word#* })); then
                COMPREPLY=($(compgen -c -- "${words[cword]}"))
            fi
        elif [[ -n $word ]]; then
            COMPREPLY+=("${word#"$prefix"}")
        fi
    done < <(env COMP_WORDS="${words[*]}" COMP_CWORD="$cword" \
                 _NEXLA_COMPLETE=complete_bash "$1")
    return 0
}

complete -o default -F _nexla_completion nexla

