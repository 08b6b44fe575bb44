"""The web decoder at GET / in a real headless Chromium: paste the README's seed token, see the
claims and the "expired" status, take a screenshot (.build/ecosystem/decoder.png), and check that
the page sends nothing anywhere. Then the page's decoding is compared with `veto decode --json`
on tokens that raise every kind of warning."""
import base64
import json
import subprocess
import time

import pytest

from browser import Chromium
from conftest import AUD, ISS, SEED
from services import VetoServer, request

NETWORK_SCHEMES = ("http:", "https:", "ws:", "wss:", "ftp:")


@pytest.fixture(scope="module")
def server(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("decoder")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem"], cwd=workdir)
    yield veto
    veto.stop()


@pytest.fixture(scope="module")
def browser():
    chromium = Chromium()
    yield chromium
    chromium.close()


def network_requests(events):
    return [e["params"]["request"]["url"] for e in events
            if e.get("method") == "Network.requestWillBeSent" and e["params"]["request"]["url"].startswith(NETWORK_SCHEMES)]


def test_the_page_is_served_with_a_policy_that_forbids_the_network(server):
    for path in ("/", "/decode"):
        status, headers, body = request(server.port, "GET", path)
        assert status == 200 and headers["content-type"].startswith("text/html")
        policy = headers["content-security-policy"]
        for directive in ("default-src 'none'", "connect-src 'none'", "form-action 'none'", "base-uri 'none'"):
            assert directive in policy
        assert "'unsafe-inline'" not in policy and "http" not in policy
        assert b"<script src" not in body and b"<link rel=\"stylesheet\"" not in body


def test_pasting_the_seed_token_shows_claims_and_expired_without_any_request(server, browser, artifacts):
    browser.call("Network.enable")
    browser.call("Page.enable")
    browser.call("Runtime.enable")
    browser.call("Page.navigate", url=f"http://127.0.0.1:{server.port}/")
    browser.wait_for_event("Page.loadEventFired")
    browser.pump(0.5)  # let anything a page might fetch late (favicon…) show up
    loaded = len(browser.events)
    assert network_requests(browser.events[:loaded]) == [f"http://127.0.0.1:{server.port}/"], "the page itself, and nothing else"

    # Paste: focus the box and insert the text the way a paste does (one input event).
    browser.evaluate("document.getElementById('token').focus()")
    browser.call("Input.insertText", text=SEED)
    browser.wait_until("document.body.dataset.state === 'decoded'")

    claims = browser.evaluate("document.getElementById('claims').textContent")
    assert '"sub": "user_482"' in claims
    assert '"iss": "https://auth.example.com"' in claims and '"aud": "https://api.example.com"' in claims
    assert '"iat": 1712400000,  // 2024-04-06T10:40:00Z,' in claims
    assert '"exp": 1712403600  // 2024-04-06T11:40:00Z, expired ' in claims
    header = browser.evaluate("document.getElementById('header').textContent")
    assert '"alg": "RS256"' in header and '"typ": "JWT"' in header
    assert browser.evaluate("document.getElementById('status').dataset.code") == "expired"
    status = browser.evaluate("document.getElementById('status').textContent")
    assert status.startswith("expired ") and status.endswith(" ago")
    assert browser.evaluate("document.getElementById('lifetime').textContent") == "1 h (exp − iat)"
    assert "NOT VERIFIED (RS256, 32 bytes)" in browser.evaluate("document.getElementById('signature').textContent")
    codes = browser.evaluate("[...document.querySelectorAll('#warnings li')].map(li => li.dataset.code)")
    assert codes == ["no_jti"]
    # The colours a person sees: the status is red.
    assert browser.evaluate("getComputedStyle(document.getElementById('status')).color") == "rgb(179, 38, 30)"

    browser.screenshot(artifacts / "decoder.png")
    assert (artifacts / "decoder.png").stat().st_size > 10_000

    browser.pump(1.0)
    after = network_requests(browser.events[loaded:])
    assert after == [], f"the page made network requests after loading: {after}"


def test_the_policy_blocks_a_request_even_if_script_tried(server, browser):
    browser.call("Page.navigate", url=f"http://127.0.0.1:{server.port}/decode")
    browser.wait_for_event("Page.loadEventFired")
    loaded = len(browser.events)
    outcome = browser.evaluate("""
        new Promise(resolve => {
            document.addEventListener('securitypolicyviolation', e => resolve('violated ' + e.effectiveDirective));
            fetch('/healthz').then(() => resolve('sent'), () => {});
        })""", await_promise=True)
    assert outcome == "violated connect-src"
    browser.pump(0.5)
    assert network_requests(browser.events[loaded:]) == [], "the blocked request never reached the network"


def b64(data):
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw_token(header, claims, signature=b"\x01" * 32):
    header_part = header if isinstance(header, str) else b64(header)
    claims_part = claims if isinstance(claims, str) else b64(claims)
    return f"{header_part}.{claims_part}.{b64(signature)}"


NOW = 1712401234


def parity_tokens():
    hs = {"alg": "HS256", "typ": "JWT"}
    return {
        "seed": SEED,
        "bearer line": "Authorization: Bearer " + SEED,
        "secrets and long life": raw_token(hs, {"sub": "u", "iat": NOW, "exp": NOW + 200_000, "password": "x",
                                                "user": {"ssn": "1", "api-key": "k"}, "card": "4111 1111 1111 1111", "jti": "j"}),
        "alg none, bad types": raw_token({"alg": "none"}, {"exp": "tomorrow", "iat": True, "aud": {"x": 1}}, b""),
        "unknown alg, key headers": raw_token({"alg": "HS999", "jku": "https://x", "x5c": ["a"], "cty": "jwt"}, {"exp": NOW + 60, "jti": "a"}),
        "future": raw_token(hs, {"iat": NOW + 3600, "nbf": NOW + 1800, "exp": NOW + 7200, "jti": "f", "auth_time": NOW - 90061}),
        "fractions": raw_token(hs, {"iat": 1712400000.25, "exp": 1712403600.5, "jti": "x"}),
        "no exp": raw_token(hs, {"sub": "forever", "jti": "n"}),
        "big numbers": raw_token(hs, b64(b'{"exp":1e400,"nbf":-253402300800,"iat":1.5e9,"jti":"b","n":12345678901234567890}')),
        "large": raw_token(hs, {"exp": NOW + 10, "jti": "l", "blob": "x" * 9000}),
        "unicode": raw_token(hs, {"sub": "Zoë 🚀", "name": "日本", "exp": NOW - 0.4, "jti": "u"}),
    }


def failing_tokens():
    return {
        "one segment": "opaque-token",
        "five segments": "a.b.c.d.e",
        "padding": raw_token({"alg": "HS256"}, {"a": 1}) .replace(".", "=.", 1),
        "duplicate member": raw_token({"alg": "HS256"}, b64(b'{"sub":"a","sub":"b"}')),
        "crit": raw_token({"alg": "HS256", "crit": ["b64"]}, {"a": 1}),
        "no alg": raw_token({"typ": "JWT"}, {"a": 1}),
        "payload not json": raw_token({"alg": "HS256"}, b64(b"not json")),
        "lone surrogate": raw_token({"alg": "HS256"}, b64(b'{"a":"\\ud800"}')),
    }


def comparable(value):
    """JSON values as both sides can hold them: every number as a float (the page has only
    doubles), and a number too large for a double (1e400) as None (JavaScript's Infinity)."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return None if number in (float("inf"), float("-inf")) else number
    return value


@pytest.mark.parametrize("name", list(parity_tokens()))
def test_page_and_cli_decode_tokens_the_same(server, browser, veto_bin, name):
    token = parity_tokens()[name]
    if browser.evaluate("location.pathname") != "/":
        browser.call("Page.navigate", url=f"http://127.0.0.1:{server.port}/")
        browser.wait_for_event("Page.loadEventFired")
    page = browser.evaluate(f"vetoDecode({json.dumps(token)}, {NOW})")
    cli = subprocess.run([veto_bin, "decode", "--json", "--at", str(NOW), token], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    assert "error" not in page, page
    for key in ("status", "expired", "lifetime_seconds", "evaluated_at", "token_length"):
        assert page[key] == expected[key], key
    assert comparable(page["header"]) == comparable(expected["header"])
    assert comparable(page["claims"]) == comparable(expected["claims"])
    assert page["signature"] == expected["signature"]
    assert page["warnings"] == expected["warnings"]
    assert {k: (v["utc"], v["relative"]) for k, v in page["times"].items()} == {k: (v["utc"], v["relative"]) for k, v in expected["times"].items()}


@pytest.mark.parametrize("name", list(failing_tokens()))
def test_page_and_cli_refuse_the_same_non_tokens(server, browser, veto_bin, name):
    token = failing_tokens()[name]
    page = browser.evaluate(f"vetoDecode({json.dumps(token)}, {NOW})")
    cli = subprocess.run([veto_bin, "decode", "--at", str(NOW), token], capture_output=True, text=True)
    assert cli.returncode == 2 and "not a JWT" in cli.stderr
    assert "error" in page, page
    if name in ("one segment", "five segments", "crit", "no alg"):
        assert page["error"] in cli.stderr, (page["error"], cli.stderr)
