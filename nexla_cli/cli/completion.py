"""Shell completion: Typer's protocol (`_NEXLA_COMPLETE=source_bash nexla`, …), tuned.

Imported only when `_NEXLA_COMPLETE` is set. A TAB press runs `nexla` once, so completion
costs what start-up costs: nothing here may pull in requests or rich (see main.py).

Most TAB presses never get here: fastcomplete.py answers them without Typer, from a table
generated from the app, and gives exactly the answer this module would
(tests/app/test_completion_parity.py compares the two).

Five changes to what Typer 0.28 does on its own:
- bash splits words at `:` and `=` (COMP_WORDBREAKS), so `localhost:8443` reaches a plain
  completion function as `localhost`, `:`, `8443` and never completes once the colon is
  typed. The bash script below glues such pieces back together, asks nexla about the whole
  word, and gives bash back only the part after the last break, which is what bash replaces.
- the zsh script also works autoloaded from $fpath, not only sourced.
- Typer renders help texts of zsh, fish and PowerShell candidates through rich when rich is
  installed. Our help has no markup (`rich_markup_mode=None`), so it is passed on as is.
- names are never file names: when no environment name, command name or option name
  matches, bash, zsh and fish offer nothing, where Typer's scripts would fall back to the
  files of the current directory; nor do choices (`--format`). Files are offered only for
  a value nexla has no completer for.
- after `token exec [OPTIONS] [--]`, COMMAND and its arguments are another program's: the
  answer says where COMMAND begins, and the shell completes it as it does after `sudo`
  (fastcomplete.py's docstring says how each shell does).
- the PowerShell script registers a completer and nothing else: Typer's rebinds TAB for the
  whole session (Set-PSReadLineKeyHandler), and leaves `_NEXLA_COMPLETE` set in the session
  when a TAB press is interrupted (Ctrl-C), after which every `nexla` prints completions
  instead of running. Its variables are now removed in a `finally`, which PowerShell runs
  on Ctrl-C too.
"""

import os
import sys
from typing import Any, Dict, List, MutableMapping, Optional

from typer import _completion_classes
from typer._click.core import Command as ClickCommand
from typer._click.shell_completion import (
    CompletionItem,
    ShellComplete,
    _resolve_context,
    _resolve_incomplete,
    add_completion_class,
)
from typer._types import TyperChoice

from nexla_cli.fast import fastcomplete

# Rendered with %-formatting by click's ShellComplete.source(): a literal % is written %%.
BASH_SCRIPT = r"""
%(complete_func)s() {
    # Glue the pieces bash split at ':' or '=' with no blank between them back into one
    # word: `localhost`, `:`, `84` -> `localhost:84`; `--env`, `=`, `lo` -> `--env=lo`.
    local IFS=$'\n'
    local line=$COMP_LINE word before
    local -a words=()
    local i n=-1 cword=0
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -n $word ]]; then before=${line%%%%"$word"*}; else before=$line; fi
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
    local prefix=${typed%%"$raw"}
    COMPREPLY=()
    while IFS= read -r word; do
        if [[ $word == %(no_files)s ]]; then
            # Names: when none matches, offer no files. macOS's bash 3.2 has no
            # compopt (there bash falls back to files): asked first, so never an error.
            type compopt >/dev/null 2>&1 && compopt +o default
        elif [[ $word == "%(command_line)s "* ]]; then
            # `token exec -- COMMAND`: COMMAND's name as after `sudo` (commands, aliases,
            # functions; files when none matches, e.g. ./job.sh); its arguments: files.
            if ((cword == ${word#* })); then
                COMPREPLY=($(compgen -c -- "${words[cword]}"))
            fi
        elif [[ -n $word ]]; then
            COMPREPLY+=("${word#"$prefix"}")
        fi
    done < <(env COMP_WORDS="${words[*]}" COMP_CWORD="$cword" \
                 %(autocomplete_var)s=complete_bash "$1")
    return 0
}

complete -o default -F %(complete_func)s %(prog_name)s
"""


# Typer's zsh script, made to work both ways zsh users install completions: sourced from
# .zshrc after compinit, or autoloaded as `_nexla` from a directory on $fpath (where the
# file is the completion function itself; Typer's script would only register on that
# first TAB and complete nothing). compinit only finds the file if `#compdef` is its
# very first line, which Typer's script (starting with a blank line) misses too.
ZSH_SCRIPT = r"""#compdef %(prog_name)s

%(complete_func)s() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" \
             %(autocomplete_var)s=complete_zsh %(prog_name)s)
}

if [[ $zsh_eval_context[-1] == (loadautofunc|shfunc) ]]; then
  # autoloaded: this file is the body of the completion function _%(prog_name)s
  %(complete_func)s "$@"
else
  compdef %(complete_func)s %(prog_name)s
fi
"""


# Typer's PowerShell script without its key binding, its variables removed however it ends.
POWERSHELL_SCRIPT = r"""# nexla completion for PowerShell 7 and Windows PowerShell 5.1.
# It registers a completer for nexla only: TAB keeps the key binding the session has.
Register-ArgumentCompleter -Native -CommandName %(prog_name)s -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    try {
        $Env:%(autocomplete_var)s = "complete_powershell"
        $Env:_TYPER_COMPLETE_ARGS = $commandAst.ToString()
        $Env:_TYPER_COMPLETE_WORD_TO_COMPLETE = $wordToComplete
        %(prog_name)s | ForEach-Object {
            $commandArray = $_ -Split ":::"
            $command = $commandArray[0]
            $helpString = $commandArray[1]
            [System.Management.Automation.CompletionResult]::new(
                $command, $command, 'ParameterValue', $helpString)
        }
    } finally {
        # Also after Ctrl-C: a variable left set would make every later nexla answer TAB.
        Remove-Item -Path Env:%(autocomplete_var)s, Env:_TYPER_COMPLETE_ARGS, `
            Env:_TYPER_COMPLETE_WORD_TO_COMPLETE -ErrorAction SilentlyContinue
    }
}
"""


# Typer's fish script, with a function that completes another program's command line (what
# fish's own completions for `sudo` and `env` do) where nexla's answer says one begins.
FISH_SCRIPT = r"""function __%(prog_name)s_tab --argument-names action
    env %(autocomplete_var)s=complete_fish _TYPER_COMPLETE_FISH_ACTION=$action \
        _TYPER_COMPLETE_ARGS=(commandline -cp) %(prog_name)s
end

function __%(prog_name)s_complete
    set -l answer (__%(prog_name)s_tab get-args)
    if string match -q -- '%(command_line)s *' $answer[1]
        set -l start (string split ' ' -- $answer[1])[2]
        set -l words (commandline -cop) (commandline -ct)
        __fish_complete_subcommand --commandline $words[(math $start + 1)..-1]
    else
        string join \n -- $answer
    end
end

complete --command %(prog_name)s --no-files --arguments "(__%(prog_name)s_complete)" \
    --condition "__%(prog_name)s_tab is-args"
"""


class TabPress:
    """What the TAB press being answered asked for. A process answers one press at a time
    (in-process tests answer several in turn): each answer starts from a clean slate."""

    # Names were asked for (environments, commands, options): never files instead.
    names_offered = False
    # Another program's command line begins at this word (`nexla` is word 0), or None.
    command_line: Optional[int] = None

    @classmethod
    def start(cls) -> None:
        cls.names_offered = False
        cls.command_line = None


class _TunedShellComplete:
    """What the bash, zsh and fish classes change in Typer's.

    Typer prints the script with click.echo, where a full disk is an unexpected error
    (exit 1); it goes out as every result does instead (Output.result: exit 3 when stdout
    cannot be written, 141 when its reader left), and the run ends there.

    And what TAB is completing is noted (TabPress): names, which are never files, or
    another program's command line."""

    ctx_args: MutableMapping[str, Any]

    def source(self) -> str:
        script: str = super().source()  # type: ignore[misc]
        deps = self.ctx_args.get("obj")
        if deps is None:
            return script
        deps.out.result(script)
        sys.exit(0)

    def get_completions(self, args: List[str], incomplete: str) -> List[CompletionItem]:
        # ShellComplete.get_completions, noting what is being completed: a command or
        # option name (the resolved object is a command), or another program's line.
        completing: Any = self
        ctx = _resolve_context(completing.cli, self.ctx_args, completing.prog_name, args)
        obj, incomplete = _resolve_incomplete(ctx, args, incomplete)
        if isinstance(obj, ClickCommand) or isinstance(getattr(obj, "type", None), TyperChoice):
            TabPress.names_offered = True
        elif obj.nargs == -1 and obj.param_type_name == "argument":
            if not ctx.allow_interspersed_args:  # `token exec COMMAND [ARGS]...`
                words = ctx.params.get(obj.name or "") or ()
                TabPress.command_line = 1 + len(args) - len(words)
                return []
        return obj.shell_complete(ctx, incomplete)


class BashComplete(_TunedShellComplete, _completion_classes.BashComplete):
    source_template = BASH_SCRIPT

    def source_vars(self) -> Dict[str, Any]:
        return {
            **super().source_vars(),
            "no_files": fastcomplete.NO_FILES,
            "command_line": fastcomplete.COMMAND_LINE,
        }

    def complete(self) -> str:
        TabPress.start()
        answer = super().complete()
        if TabPress.command_line is not None:
            return fastcomplete.bash_text(fastcomplete.CommandLine(TabPress.command_line))
        if not _names_were_offered(self):
            return answer
        return fastcomplete.NO_FILES + ("\n" + answer if answer else "")


class ZshComplete(_TunedShellComplete, _completion_classes.ZshComplete):
    source_template = ZSH_SCRIPT

    def complete(self) -> str:
        TabPress.start()
        answer = super().complete()
        if TabPress.command_line is not None:
            return fastcomplete.zsh_text(fastcomplete.CommandLine(TabPress.command_line))
        # Typer answers `_files` when there is nothing to offer; names are never files.
        return "" if answer == "_files" and _names_were_offered(self) else answer


class FishComplete(_TunedShellComplete, _completion_classes.FishComplete):
    source_template = FISH_SCRIPT

    def source_vars(self) -> Dict[str, Any]:
        return {**super().source_vars(), "command_line": fastcomplete.COMMAND_LINE}

    def complete(self) -> str:
        TabPress.start()
        if os.getenv("_TYPER_COMPLETE_FISH_ACTION", "") == "is-args":
            # fish offers files when `is-args` fails, as Typer's does when nothing matches.
            args, incomplete = self.get_completion_args()
            found = self.get_completions(args, incomplete)
            claimed = found or _names_were_offered(self) or TabPress.command_line is not None
            sys.exit(0 if claimed else 1)
        answer = super().complete()
        if TabPress.command_line is not None:
            return fastcomplete.fish_text(fastcomplete.CommandLine(TabPress.command_line))
        return answer


class PowerShellComplete(_TunedShellComplete, _completion_classes.PowerShellComplete):
    source_template = POWERSHELL_SCRIPT

    def complete(self) -> str:
        TabPress.start()
        answer: str = super().complete()
        return answer


def _names_were_offered(completion: ShellComplete) -> bool:
    """Whether this TAB press asked for names (environments, commands, options), which are
    never files."""
    return TabPress.names_offered


def _plain_help(text: str) -> str:
    return text


def script(shell: str) -> str:
    """The completion script for SHELL, as `_NEXLA_COMPLETE=source_SHELL nexla` prints it
    and completions/ holds it (`nexla completion SHELL`)."""
    classes = {
        "bash": BashComplete,
        "zsh": ZshComplete,
        "fish": FishComplete,
        "powershell": PowerShellComplete,
    }
    # The script needs only the names: no command tree, no context.
    completion: Any = classes[shell](None, {}, "nexla", "_NEXLA_COMPLETE")  # type: ignore[arg-type,abstract]
    text: str = completion.source()
    return text


def register() -> None:
    """Make `_NEXLA_COMPLETE=source_<shell>` / `complete_<shell>` work (add_completion=False)."""
    _completion_classes.completion_init()
    add_completion_class(BashComplete, BashComplete.name)
    add_completion_class(ZshComplete, ZshComplete.name)
    add_completion_class(FishComplete, FishComplete.name)
    add_completion_class(PowerShellComplete, "powershell")
    add_completion_class(PowerShellComplete, "pwsh")
    _completion_classes._sanitize_help_text = _plain_help
