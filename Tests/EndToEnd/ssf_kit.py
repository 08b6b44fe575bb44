"""The simulated Shared Signals transmitter of issue 16's end-to-end tests (SSF 1.0), with the
subject formats of RFC 9493 and the push of RFC 8935.

`Transmitter` serves its metadata (/.well-known/ssf-configuration), its JWKS, stream configuration
(create with the manage token, read with the read token), verification, and an RFC 8936 poll endpoint
that records every ack and setErr; it makes SETs (RFC 8417: typ secevent+jwt, RS256, one event each).
It can be stopped and started again on the same port, and keeps its queue and records across a
restart, as a durable transmitter does."""
import json
import threading
import time
import urllib.parse

from services import request
from signals_kit import EVENTS, OMIT, POLL_METHOD, PUSH_METHOD, VERIFICATION, Key, Stub, claims_of, unique


def iss_sub(iss, sub):
    return {"format": "iss_sub", "iss": iss, "sub": sub}


def opaque(identifier):
    return {"format": "opaque", "id": identifier}


def email(address):
    return {"format": "email", "email": address}


def complex_subject(user, session=None, **members):
    subject = {"format": "complex", "user": user, **members}
    if session is not None:
        subject["session"] = opaque(session)
    return subject


class Transmitter(Stub):
    """An SSF transmitter. Records: `management` (every stream/verification call: method, path, the
    Authorization header, the JSON body), `polls` (every poll: authorization, ack, setErrs, the jtis
    delivered, moreAvailable, when), `acked`, `errors` (setErrs by jti), `verifications` (stream_id,
    state and jti of each verification SET it made) and `deliveries` (its own pushes: jti, status).
    `stray` lists the acks and setErrs of jtis it never delivered. `queue` holds the SETs not
    acknowledged yet, in order."""

    def __init__(self, issuer="https://tx.test", audience="https://veto.test/ssf", manage_token=None, read_token=None,
                 page_size=10):
        super().__init__()
        self.issuer, self.audience = issuer, audience
        self.manage_token = manage_token or unique("manage")
        self.read_token = read_token or unique("read")
        self.key, self.rogue = Key("tx-1"), Key("tx-1")
        self.page_size = page_size
        self.streams, self.management, self.polls, self.deliveries = {}, [], [], []
        self.queue, self.acked, self.errors, self.verifications = {}, [], {}, []
        self.sent, self.stray = set(), []  # every jti delivered by a poll; acks and setErrs of jtis never delivered
        self.lock = threading.Lock()
        self.start()

    # -- HTTP -------------------------------------------------------------------------------------

    def metadata(self):
        return {"spec_version": "1_0", "issuer": self.issuer, "jwks_uri": self.base + "/jwks",
                "configuration_endpoint": self.base + "/streams", "verification_endpoint": self.base + "/verify",
                "delivery_methods_supported": [PUSH_METHOD, POLL_METHOD],
                "authorization_schemes": [{"spec_urn": "urn:ietf:rfc:6749"}]}

    def route(self, method, path, query, headers, body):
        authorization = headers.get("Authorization")
        try:
            document = json.loads(body) if body else None
        except ValueError:
            return 400, {}, {"err": "invalid_request", "description": "not JSON"}
        if method == "GET" and path == "/.well-known/ssf-configuration":
            return 200, {}, self.metadata()
        if method == "GET" and path == "/jwks":
            return 200, {}, {"keys": [self.key.jwk()]}
        if path in ("/streams", "/verify"):
            with self.lock:
                self.management.append({"method": method, "path": path, "authorization": authorization, "query": query,
                                        "body": document})
            if method == "POST" and path == "/streams":
                return self._create(authorization, document)
            if method == "GET" and path == "/streams":
                return self._read(authorization, query.get("stream_id"))
            if method == "POST" and path == "/verify":
                return self._verify(authorization, document)
        if method == "POST" and path == "/poll":
            return self._poll(authorization, document)
        return 404, {}, {"err": "not_found"}

    def _create(self, authorization, document):
        if authorization != f"Bearer {self.manage_token}":
            return 401, {"WWW-Authenticate": "Bearer"}, {"err": "authentication_failed"}
        document = document or {}
        delivery = dict(document.get("delivery") or {})
        if delivery.get("method") == POLL_METHOD:
            delivery["endpoint_url"] = self.poll_url
        elif delivery.get("method") != PUSH_METHOD:
            return 400, {}, {"err": "invalid_request", "description": "delivery.method"}
        stream_id = unique("stream")
        requested = document.get("events_requested") or []
        self.streams[stream_id] = {"stream_id": stream_id, "iss": self.issuer, "aud": self.audience, "delivery": delivery,
                                   "events_supported": EVENTS, "events_requested": requested,
                                   "events_delivered": [e for e in requested if e in EVENTS],
                                   "description": document.get("description")}
        return 201, {}, self.public(stream_id)

    def public(self, stream_id):
        stream = json.loads(json.dumps(self.streams[stream_id]))
        stream["delivery"].pop("authorization_header", None)  # SSF 1.0: not returned
        return stream

    def _read(self, authorization, stream_id):
        if authorization != f"Bearer {self.read_token}":
            return 401, {"WWW-Authenticate": "Bearer"}, {"err": "authentication_failed"}
        if stream_id not in self.streams:
            return 404, {}, {"err": "not_found"}
        return 200, {}, self.public(stream_id)

    def _verify(self, authorization, document):
        if authorization not in (f"Bearer {self.read_token}", f"Bearer {self.manage_token}"):
            return 401, {"WWW-Authenticate": "Bearer"}, {"err": "authentication_failed"}
        document = document or {}
        stream = self.streams.get(document.get("stream_id"))
        if stream is None:
            return 404, {}, {"err": "not_found"}
        members = {"state": document["state"]} if "state" in document else {}
        token = self.set_token(VERIFICATION, payload=members, sub_id=opaque(stream["stream_id"]))
        with self.lock:
            self.verifications.append({"stream_id": stream["stream_id"], "state": document.get("state"),
                                       "jti": claims_of(token)["jti"]})
        if stream["delivery"]["method"] == POLL_METHOD:
            self.enqueue(token)
        else:
            threading.Thread(target=self._deliver, args=(stream["delivery"], token), daemon=True).start()
        return 204, {}, b""

    def _deliver(self, delivery, token):
        """A push with retries, as a transmitter delivers (RFC 8935 §2)."""
        url = urllib.parse.urlsplit(delivery["endpoint_url"])
        for _ in range(20):
            try:
                status, _, body = request(url.port, "POST", url.path, body=token,
                                          headers={"Content-Type": "application/secevent+jwt", "Accept": "application/json",
                                                   "Authorization": delivery.get("authorization_header", "")})
            except OSError as error:
                status, body = None, str(error).encode()
            with self.lock:
                self.deliveries.append({"jti": claims_of(token)["jti"], "status": status, "body": body})
            if status is not None and status < 500:
                return
            time.sleep(0.5)

    def _poll(self, authorization, document):
        if authorization != f"Bearer {self.read_token}":
            with self.lock:
                self.polls.append({"authorization": authorization, "refused": True, "at": time.monotonic()})
            return 401, {"WWW-Authenticate": "Bearer"}, {"err": "authentication_failed"}
        document = document or {}
        with self.lock:
            ack, errs = list(document.get("ack") or []), dict(document.get("setErrs") or {})
            for jti in ack:
                self.acked.append(jti)
                self.queue.pop(jti, None)
            for jti, err in errs.items():
                self.errors[jti] = err
                self.queue.pop(jti, None)
            self.stray += [jti for jti in [*ack, *errs] if jti not in self.sent]
            limit = min(int(document.get("maxEvents", self.page_size)), self.page_size)
            # SETs never delivered come first, then redeliveries: SETs a receiver keeps failing on
            # must not starve the ones behind them.
            delivered = sorted(self.queue, key=lambda jti: jti in self.sent)[:limit]
            self.sent.update(delivered)
            more = len(self.queue) > len(delivered)
            self.polls.append({"authorization": authorization, "request": document, "ack": ack, "setErrs": errs,
                               "delivered": delivered, "moreAvailable": more, "at": time.monotonic()})
            return 200, {}, {"sets": {jti: self.queue[jti] for jti in delivered}, "moreAvailable": more}

    @property
    def poll_url(self):
        return self.base + "/poll"

    @property
    def configuration_url(self):
        return self.base + "/.well-known/ssf-configuration"

    # -- SETs ---------------------------------------------------------------------------------------

    def set_token(self, event, subject=None, *, sub_id=None, event_timestamp=None, payload=None, iat=None, jti=None,
                  aud=None, iss=None, events=None, typ="secevent+jwt", key=None, alg="RS256", kid=None, **claims):
        """A SET (RFC 8417) with one event; the subject goes in the event (CAEP style) or, as `sub_id`,
        at the top level (SSF 1.0). `events` replaces the whole events member; OMIT leaves out a claim."""
        body = dict(payload or {})
        if subject is not None:
            body["subject"] = subject
        if event_timestamp is not None:
            body["event_timestamp"] = event_timestamp
        everything = {"iss": iss or self.issuer, "aud": self.audience if aud is None else aud,
                      "iat": int(time.time()) if iat is None else iat, "jti": jti or unique("set"),
                      "events": {event: body} if events is None else events}
        if sub_id is not None:
            everything["sub_id"] = sub_id
        everything.update(claims)
        header = {"typ": typ} if kid is None else {"typ": typ, "kid": kid}
        return (key or self.key).sign(header, everything, alg=alg)

    def enqueue(self, token):
        """Queues a SET for the poll endpoint; returns its jti."""
        return self.enqueue_all([token])[0]

    def enqueue_all(self, tokens):
        """Queues SETs at once (no poll sees only some of them); returns their jtis."""
        jtis = [claims_of(token)["jti"] for token in tokens]
        with self.lock:
            self.queue.update(zip(jtis, tokens))
        return jtis

    def delivered(self, jti):
        with self.lock:
            return sum(jti in poll.get("delivered", ()) for poll in self.polls)


def push(port, token, authorization=OMIT, content_type="application/secevent+jwt"):
    """One RFC 8935 push to Veto's /ssf/events."""
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    if authorization is not OMIT:
        headers["Authorization"] = authorization
    return request(port, "POST", "/ssf/events", body=token, headers=headers)


def push_until_accepted(port, token, authorization, timeout=20):
    """The transmitter's retry: pushes again after a 5xx or a refused connection, with backoff."""
    attempts, delay, deadline = [], 0.2, time.monotonic() + timeout
    while True:
        try:
            status, headers, body = push(port, token, authorization)
        except OSError:
            status, headers, body = None, {}, b""
        attempts.append(status)
        if (status is not None and status < 500) or time.monotonic() > deadline:
            return status, headers, body, attempts
        time.sleep(delay)
        delay = min(delay * 2, 2)
