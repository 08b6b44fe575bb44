"""`veto decode`: the seed token from the README tour, input tolerance, and clear errors."""
import json

from conftest import SEED


def test_seed_token_as_in_the_readme_tour(veto):
    p = veto("decode", SEED, "--color", "never")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert '"alg": "RS256"' in out and '"typ": "JWT"' in out
    assert '"sub": "user_482"' in out and "https://auth.example.com" in out and "https://api.example.com" in out
    assert "2024-04-06T10:40:00Z" in out and "2024-04-06T11:40:00Z" in out
    assert "expired" in out and "NOT VERIFIED" in out
    assert "Lifetime   1 h (exp − iat)" in out
    assert "No jti claim" in out
    assert "\x1b[" not in out, "colour must be off with --color never"


def test_claims_keep_their_original_order(veto):
    out = veto("decode", SEED).stdout
    positions = [out.index(f'"{name}"') for name in ("sub", "iss", "aud", "iat", "exp")]
    assert positions == sorted(positions)


def test_status_as_of_a_given_instant(veto):
    inside = veto("decode", SEED, "--at", "2024-04-06T11:00:00Z")
    assert "valid for 40 min more" in inside.stdout
    assert "expires in 40 min" in inside.stdout
    later = veto("decode", SEED, "--at", str(1712403600 + 3 * 3600 + 12 * 60))
    assert "expired 3 h 12 min ago" in later.stdout
    before = veto("decode", SEED, "--at", "1712390000")
    assert before.returncode == 0


def test_reads_stdin_with_bearer_prefixes(veto):
    for text in (SEED, f"  {SEED}\n", f"Bearer {SEED}", f"Authorization: Bearer {SEED}\n"):
        p = veto("decode", input=text)
        assert p.returncode == 0 and "user_482" in p.stdout, text


def test_json_output_has_the_same_facts(veto):
    p = veto("decode", "--json", "--at", "1712403600", SEED)
    doc = json.loads(p.stdout)
    assert doc["claims"]["sub"] == "user_482" and list(doc["claims"]) == ["sub", "iss", "aud", "iat", "exp"]
    assert doc["header"] == {"alg": "RS256", "typ": "JWT"}
    assert doc["status"] == "expired" and doc["expired"] is True
    assert doc["times"]["exp"]["utc"] == "2024-04-06T11:40:00Z"
    assert doc["lifetime_seconds"] == 3600
    assert doc["signature"] == {"algorithm": "RS256", "length": 32, "verified": False}
    assert [w["code"] for w in doc["warnings"]] == ["no_jti"]


def test_colour_on_request_and_never_with_no_color(veto):
    assert "\x1b[" in veto("decode", SEED, "--color", "always").stdout
    assert "\x1b[" not in veto("decode", SEED, env={"NO_COLOR": "1"}).stdout


def test_errors_say_what_is_wrong(veto):
    cases = {
        "not.a.jwt!": "segment",
        "abc": "1 segment",
        "a.b.c.d.e": "JWE",
        SEED.replace(".", "=.", 1): "header segment (1 of 3) is not valid base64url: padding",
        SEED.split(".")[0] + ".bm90IGpzb24." + SEED.split(".")[2]: "payload segment (2 of 3) is not a JSON object",
    }
    for token, expected in cases.items():
        p = veto("decode", token)
        assert p.returncode == 2, token
        assert expected in p.stderr, (token, p.stderr)
        assert p.stdout == ""


def test_no_input_is_a_usage_error(veto):
    p = veto("decode", input="")
    assert p.returncode == 2 and "empty" in p.stderr


def test_help_and_version(veto):
    assert "Examples:" in veto("decode", "--help").stdout
    assert "Examples:" in veto("verify", "--help").stdout
    assert "Examples:" in veto("--help").stdout
    assert veto("--version").stdout.strip()
