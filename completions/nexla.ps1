# nexla completion for PowerShell 7 and Windows PowerShell 5.1.
# It registers a completer for nexla only: TAB keeps the key binding the session has.
Register-ArgumentCompleter -Native -CommandName nexla -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    try {
        $Env:_NEXLA_COMPLETE = "complete_powershell"
        $Env:_TYPER_COMPLETE_ARGS = $commandAst.ToString()
        $Env:_TYPER_COMPLETE_WORD_TO_COMPLETE = $wordToComplete
        nexla | ForEach-Object {
            $commandArray = $_ -Split ":::"
            $command = $commandArray[0]
            $helpString = $commandArray[1]
            [System.Management.Automation.CompletionResult]::new(
                $command, $command, 'ParameterValue', $helpString)
        }
    } finally {
        # Also after Ctrl-C: a variable left set would make every later nexla answer TAB.
        Remove-Item -Path Env:_NEXLA_COMPLETE, Env:_TYPER_COMPLETE_ARGS, `
            Env:_TYPER_COMPLETE_WORD_TO_COMPLETE -ErrorAction SilentlyContinue
    }
}

