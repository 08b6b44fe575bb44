"""Security finding 7: log injection.

The text log format wrote the unverified `sub`/`jti`/`iss` of refused tokens raw: a `sub` with a line
feed forged a whole "critical … ADMIN TOKEN ACCEPTED" record, and a NUL made the log "binary" for
grep. Every value must be escaped in both formats: each line of stderr is one record, with no NUL,
no ESC, no C1 and no bidi control."""
import json
import os
import re
import time

import jwt

from conftest import AUD, ISS
from services import VetoServer, request, wait_for

FORGED = "2024-04-06T11:00:00+0000 critical veto: code=admin [VetoServer] ADMIN TOKEN ACCEPTED"
SUB = "alice\n" + FORGED + "\x00\r\x1b[2K\u009b1A\u202e\u2028 key=value"
JTI = "j1 code=allowed\x00"
ISS_FAKE = ISS + "\n" + FORGED
RECORD_START = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (trace|debug|info|notice|warning|error|critical) ")
RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def refused_tokens(keyring):
    """Three refusals that log the token's claims: a bad signature, a wrong audience, an unknown issuer."""
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": SUB, "jti": JTI, "iat": now, "exp": now + 600}
    bad_signature = jwt.encode(claims, os.urandom(32), algorithm="HS256")
    wrong_audience = keyring.token("HS256", sub=SUB, jti=JTI, aud="https://other.example")
    unknown_issuer = keyring.token("HS256", sub=SUB, jti=JTI, iss=ISS_FAKE)
    return [bad_signature, wrong_audience, unknown_issuer]


def serve_and_refuse(veto_bin, keyring, tmp_path, log_format):
    server = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", f"HS256:{keyring.dir / keyring.files['HS256']}",
                                   "--data-dir", str(tmp_path / "data"), "--log-format", log_format], cwd=tmp_path)
    try:
        for token in refused_tokens(keyring):
            status, headers, _ = request(server.port, "GET", "/v1/check", token)
            assert status == 401, (status, headers)
        wait_for(lambda: server.log.read_bytes().count(b"denied") >= 3, timeout=10, what="three refusals in the log")
    finally:
        server.stop()
    return server.log.read_bytes()


def test_finding_07_text_log_escapes_refused_token_values(veto_bin, keyring, tmp_path):
    log = serve_and_refuse(veto_bin, keyring, tmp_path, "text")
    assert b"\x00" not in log, "a NUL reached the log"
    lines = log.split(b"\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        assert RECORD_START.match(line), f"a line that is not a record of its own: {line!r}"
        text = line.decode("utf-8")
        assert RAW_CONTROL.search(text) is None, f"raw control character in {text!r}"
        assert not text.split(" ")[1] == "critical", f"a forged critical record: {text!r}"
    denied = [line.decode() for line in lines if b" denied" in line and b"[VetoServer]" in line]
    assert len(denied) == 3, log.decode(errors="replace")
    # The escaped form is readable, and a value cannot pass for another key: it is quoted.
    assert any('sub="alice\\n2024-04-06T11:00:00+0000 critical' in line for line in denied), denied
    assert all("\\u{0}" in line and "\\u{9b}1A\\u{202e}\\u{2028}" in line for line in denied), denied
    assert all('jti="j1 code=allowed\\u{0}"' in line for line in denied), denied
    for line in denied:
        # Outside quoted values, exactly one code=: Veto's own.
        unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
        assert len(re.findall(r" code=", unquoted)) == 1, line


def test_finding_07_json_log_escapes_refused_token_values(veto_bin, keyring, tmp_path):
    log = serve_and_refuse(veto_bin, keyring, tmp_path, "json")
    assert b"\x00" not in log, "a NUL reached the log"
    lines = log.split(b"\n")
    assert lines[-1] == b""
    records = []
    for line in lines[:-1]:
        text = line.decode("utf-8")
        assert RAW_CONTROL.search(text) is None, f"raw control character (C1, bidi, U+2028…) in {text!r}"
        records.append(json.loads(text))
    denied = [record for record in records if record["msg"] == "denied"]
    assert len(denied) == 3, records
    assert all(record["level"] != "critical" for record in records)
    # Escaped, not altered: a log processor gets the exact values back.
    assert {record["sub"] for record in denied} == {SUB}
    assert {record["jti"] for record in denied} == {JTI}
    assert ISS_FAKE in {record.get("iss") for record in denied}
