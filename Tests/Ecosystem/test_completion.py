"""Shell completion scripts from swift-argument-parser (README, "Shell completion")."""
import shutil
import subprocess

import pytest

COMMANDS = ["decode", "verify", "sign", "keygen", "serve", "blocklist"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_naming_every_command(veto_bin, shell):
    result = subprocess.run([veto_bin, "--generate-completion-script", shell], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    script = result.stdout
    assert len(script) > 1000
    for command in COMMANDS:
        assert command in script, f"{shell}: {command} missing"
    assert "redis-password-file" in script and "admin-token-file" in script
    interpreter = shutil.which(shell)
    if interpreter:
        syntax = subprocess.run([interpreter, "-n"], input=script, capture_output=True, text=True, timeout=30)
        assert syntax.returncode == 0, syntax.stderr
    else:
        print(f"{shell} is not installed: its script was generated and read, not syntax-checked")


def complete(veto_bin, tmp_path, words):
    """Runs bash's completion function for `words` (the last one being completed)."""
    script = tmp_path / "veto.bash"
    script.write_text(subprocess.run([veto_bin, "--generate-completion-script", "bash"], capture_output=True, text=True, check=True).stdout)
    line = " ".join(words)
    program = f"""
source {script}
function_name=$(complete -p veto | sed -E 's/.*-F ([^ ]+) .*/\\1/')
COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}
"$function_name" veto "{words[-1]}" "{words[-2]}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30, env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_bash_completes_subcommands_and_flags(veto_bin, tmp_path):
    (tmp_path / "veto").symlink_to(veto_bin)
    assert "blocklist" in complete(veto_bin, tmp_path, ["veto", "bl"]) or complete(veto_bin, tmp_path, ["veto", "bl"]) == ["blocklist"]
    flags = complete(veto_bin, tmp_path, ["veto", "serve", "--red"])
    assert "--redis" in flags and "--redis-password-file" in flags
