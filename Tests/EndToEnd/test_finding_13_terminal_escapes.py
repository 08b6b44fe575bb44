"""Security finding 13: terminal escape injection in the CLI.

`veto verify` printed raw ESC sequences from a token's `kid` and `iss` (a window title, a screen
clear, a fake green "All checks passed"), and `veto decode` passed U+009B (CSI). Every value from a
token must reach the terminal escaped: C0, C1, DEL and the bidi controls, in text and in --json."""
import json
import re
import time

from conftest import AUD, ISS

# What a terminal acts on: C0 (a line feed is fine: the output is lines), DEL, C1, bidi controls,
# the line and paragraph separators.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J\x1b[H"
FAKE_PASS = "\x1b[32m\u2713 All checks passed\x1b[0m"
CSI = "\u009b31m"           # the one-character C1 form of ESC [
BIDI = "\u202egnp.exe\u202c\u2066x\u2069\u200f"
NUL_DEL = "\x00\x7f"


def hostile_token(keyring, **extra):
    now = int(time.time())
    return keyring.token(
        "HS256",
        headers={"kid": TITLE + CLEAR + FAKE_PASS},
        iss=ISS + CSI + BIDI,
        sub="user" + NUL_DEL + CLEAR,
        jti="j" + CSI,
        name="\u0085next line" + BIDI,
        exp=now + 3600,
        **extra,
    )


def assert_inert(output, what):
    found = UNSAFE.search(output)
    assert found is None, f"{what}: raw {found.group()!r} at {found.start()} in:\n{output!r}"


def test_finding_13_verify_text_escapes_kid_and_iss(kveto, keyring):
    p = kveto("verify", hostile_token(keyring), "--key", keyring.flag("HS256"), "--aud", AUD, "--color", "never")
    assert p.returncode in (0, 1), p.stderr
    escapes = [line for line in p.stdout.splitlines() if "\x1b" in line]
    assert not escapes, f"raw ESC printed: {escapes!r}"
    assert_inert(p.stdout, "veto verify")
    assert_inert(p.stderr, "veto verify (stderr)")
    # The escaped form is shown, so the reader sees what the token tried.
    assert "\\u{1b}]0;pwned\\u{7}" in p.stdout, p.stdout
    assert "\\u{9b}31m" in p.stdout and "\\u{202e}gnp.exe" in p.stdout, p.stdout
    # Nothing the token says can pass for a line of Veto's own.
    assert not any(line.lstrip().startswith(("\u2713 All checks passed", "All checks passed")) for line in p.stdout.splitlines())


def test_finding_13_verify_failure_sentences_escape_token_values(kveto, keyring):
    """A wrong iss: the failure sentence quotes the token's value."""
    token = keyring.token("HS256", iss="https://evil.example\x1b[2J" + CSI + BIDI)
    p = kveto("verify", token, "--key", keyring.flag("HS256"), "--aud", AUD, "--iss", ISS, "--color", "never")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "✗" in p.stdout, p.stdout
    assert_inert(p.stdout, "veto verify")
    assert "https://evil.example\\u{1b}[2J\\u{9b}31m" in p.stdout, p.stdout


def test_finding_13_verify_with_colour_keeps_only_veto_s_own_sequences(kveto, keyring):
    p = kveto("verify", hostile_token(keyring), "--key", keyring.flag("HS256"), "--aud", AUD, "--color", "always")
    assert p.returncode in (0, 1), p.stderr
    # Veto's own styling is SGR only (ESC [ digits m); the token's OSC title and screen clear are gone.
    without_sgr = re.sub("\x1b\\[[0-9;]*m", "", p.stdout)
    assert_inert(without_sgr, "veto verify --color always")
    assert "\x1b[32m\u2713 All checks passed" not in p.stdout


def test_finding_13_verify_json_escapes_c1_and_bidi(kveto, keyring):
    p = kveto("verify", hostile_token(keyring), "--key", keyring.flag("HS256"), "--aud", AUD, "--json")
    assert p.returncode in (0, 1), p.stderr
    assert_inert(p.stdout, "veto verify --json")
    document = json.loads(p.stdout)
    # Escaped, not altered: a program reading the JSON gets the token's exact values back.
    assert document["header"]["kid"] == TITLE + CLEAR + FAKE_PASS
    assert document["claims"]["iss"] == ISS + CSI + BIDI
    assert document["claims"]["sub"] == "user" + NUL_DEL + CLEAR
    assert "\\u009b" in p.stdout and "\\u202e" in p.stdout and "\\u0085" in p.stdout


def test_finding_13_decode_text_escapes_c1_and_warnings(veto, keyring):
    token = hostile_token(keyring, iat="\x1b[2J" + CSI)     # a malformed iat: its warning quotes the value
    p = veto("decode", token, "--color", "never")
    assert p.returncode == 0, p.stderr
    assert_inert(p.stdout, "veto decode")
    assert "\\u009b31m" in p.stdout, p.stdout               # JSON escapes in the header and claims
    assert "\\u{1b}[2J" in p.stdout or "\\u001b[2J" in p.stdout


def test_finding_13_decode_json_escapes_c1_and_bidi(veto, keyring):
    p = veto("decode", hostile_token(keyring), "--json")
    assert p.returncode == 0, p.stderr
    assert_inert(p.stdout, "veto decode --json")
    document = json.loads(p.stdout)
    assert document["claims"]["name"] == "\u0085next line" + BIDI
    assert document["header"]["kid"] == TITLE + CLEAR + FAKE_PASS
