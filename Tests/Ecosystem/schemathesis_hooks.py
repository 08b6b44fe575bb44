"""Schemathesis hooks (SCHEMATHESIS_HOOKS) for Tests/Ecosystem/test_openapi.py: credentials per
part of the API. Every data-plane request gets a freshly minted, valid access token, so /v1/check
keeps exercising its allow path even after POST /v1/revoke has revoked earlier tokens."""
import base64
import os
import time

import jwt
import schemathesis

SIGNING_KEY = open(os.environ["VETO_ST_SIGNING_KEY"]).read()

# POST /ssf/events takes a SET as application/secevent+jwt: text.
schemathesis.serializer.alias("application/secevent+jwt", "text/plain")


def bearer(case, token):
    case.headers = case.headers or {}
    case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.auth(refresh_interval=None).apply_to(path_regex="^/v1/(check|revoke)")
class FreshAccessToken:
    def get(self, case, context):
        now = int(time.time())
        claims = {"iss": os.environ["VETO_ST_ISSUER"], "aud": os.environ["VETO_ST_AUDIENCE"], "sub": "schemathesis",
                  "iat": now, "exp": now + 600, "jti": os.urandom(8).hex()}
        return jwt.encode(claims, SIGNING_KEY, algorithm="RS256")

    def set(self, case, data, context):
        bearer(case, data)


@schemathesis.auth().apply_to(path_regex="^/v1/admin/")
class AdminToken:
    def get(self, case, context):
        return os.environ["VETO_ST_ADMIN_TOKEN"]

    def set(self, case, data, context):
        bearer(case, data)


@schemathesis.auth().apply_to(path_regex="^/oauth2/")
class OAuthClient:
    def get(self, case, context):
        pair = f"{os.environ['VETO_ST_CLIENT_ID']}:{os.environ['VETO_ST_CLIENT_SECRET']}"
        return base64.b64encode(pair.encode()).decode()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Basic {data}"
