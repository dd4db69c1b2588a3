"""The request gate, in order: request id → path alias → HEAD as GET → Host → CORS preflight → Origin →
body size → (after routing) media type → token → rate limits → admin check; on the way out, the CORS
headers.

The rate limit is charged once the gate knows who is asking: a request with a valid token pays into
its IP-and-token and tenant buckets; one that is refused (Host, Origin, token) or needs no token
(webhooks, unknown routes) pays into its IP's anonymous bucket. So a page flooding the port from
the same address cannot lock the user's own clients out (see ``security/ratelimit.py``).

Only web/ imports falcon; the rules themselves live in security/ so the WebSocket path shares them.
"""

from __future__ import annotations

import falcon

from qorven_local.clock import IdFactory
from qorven_local.errors import AdminOnly, ForbiddenOrigin, PayloadTooLarge, QorvenError, UnsupportedMediaType
from qorven_local.security.access import AccessPolicy
from qorven_local.security.ratelimit import Decision, RateLimiter
from qorven_local.web.spec import operation_of
from qorven_local.web.validation import validate_query

WEBHOOK_PREFIX = "/v1/webhooks/"
UNLIMITED_PATHS = frozenset({"/health", "/livez", "/readyz"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Routes that take files: their body cap is QORVEN_MAX_UPLOAD_BYTES plus room for the multipart framing
# and form fields (the resource then holds the file itself to the exact limit).
UPLOAD_PATHS = frozenset({"/v1/documents"})
UPLOAD_OVERHEAD_BYTES = 64 * 1024
# On every response, errors and the UI included: no browser sniffs a JSON body into HTML or script,
# and no link followed out of the UI tells the other site where it came from (paths can carry ids).
SAFETY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
# CORS for the origins the user listed (QORVEN_CORS_ORIGINS). Never Allow-Credentials: a listed page
# authenticates with its own token, so no cookie of ours ever rides along on its requests.
CORS_ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_ALLOW_HEADERS = "authorization, content-type, x-api-key"
CORS_EXPOSE_HEADERS = "x-request-id, RateLimit, RateLimit-Policy, Retry-After"
CORS_MAX_AGE_SECONDS = "600"


def canonical_path(path: str) -> str:
    """Map the aliases onto /v1: /api/v1/X and /api/X → /v1/X (and /api/ws → /ws, /api/mcp → /mcp)."""
    if path.startswith("/api/v1/") or path == "/api/v1":
        return "/v1" + path[len("/api/v1"):]
    if path == "/api/ws":
        return "/ws"
    if path == "/api/mcp":
        return "/mcp"
    if path.startswith("/api/") or path == "/api":
        return "/v1" + path[len("/api"):]
    return path


def _lower_headers(req: falcon.Request) -> dict[str, str]:
    return {k.lower(): v for k, v in req.headers.items()}


def _is_preflight(method: str, headers: dict[str, str]) -> bool:
    return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def is_static(path: str) -> bool:
    return path == "/" or path.startswith("/ui/") or path == "/favicon.ico"


class RequestGate:
    """Everything that happens to a request before its resource runs."""

    def __init__(self, policy: AccessPolicy, limiter: RateLimiter, ids: IdFactory, max_body_bytes: int,
                 max_upload_bytes: int = 0) -> None:
        self.policy = policy
        self.limiter = limiter
        self.ids = ids
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.request_id = self.ids.new("req")
        resp.set_header("x-request-id", req.context.request_id)
        for name, value in SAFETY_HEADERS:
            resp.set_header(name, value)
        req.path = canonical_path(req.path)
        req.context.headers = headers = _lower_headers(req)
        # HEAD is answered by the GET responder (same checks, same headers); Falcon drops the body
        # once process_response has put the method back.
        req.context.head = req.method == "HEAD"
        if req.context.head:
            req.method = "GET"
        port = req.env.get("SERVER_PORT")
        webhook = req.path.startswith(WEBHOOK_PREFIX)
        req.context.limited = req.path not in UNLIMITED_PATHS and not is_static(req.path)
        if not webhook:
            # webhooks arrive through tunnels under foreign Host names; their signatures guard them
            try:
                self.policy.check_host(headers.get("host"), port)
                preflight = _is_preflight(req.method, headers)
                if preflight:
                    self._preflight(headers, resp)
                else:
                    self.policy.check_origin(headers, port, method=req.method)
            except QorvenError:
                self._charge_anonymous(req, resp)
                raise
            if preflight:
                self._charge_anonymous(req, resp)
                return
        limit = self.max_body * 5 if webhook else self.max_body
        if req.path in UPLOAD_PATHS and req.method == "POST":
            limit = max(limit, self.max_upload + UPLOAD_OVERHEAD_BYTES)
        if req.content_length is not None and req.content_length > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        req.context.body_limit = limit
        req.context.webhook = webhook

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource, params) -> None:
        if resource is None:  # an unknown route is 404 whatever its body's media type
            self._charge_anonymous(req, resp)
            return
        op = operation_of(resource, req.method)
        if hasattr(resource, f"on_{req.method.lower()}"):  # else 405, whatever the media type
            self._check_media_type(req, op.content_types if op is not None else ("application/json",))
        if op is not None and op.public:
            req.context.principal = None
            self._charge_anonymous(req, resp)
            return
        try:
            principal = self.policy.authenticate(req.context.headers, port=req.env.get("SERVER_PORT"))
        except QorvenError:
            self._charge_anonymous(req, resp)
            raise
        req.context.principal = principal
        if req.context.limited:
            decision = self.limiter.take_authenticated(req.remote_addr or "unknown", principal.token_id,
                                                       principal.tenant_id)
            self._advertise(resp, self.limiter.policies_header(), decision)
        if op is not None and op.admin and not principal.is_admin:
            raise AdminOnly(f"{req.method} {req.path} needs an admin token")
        if op is not None and op.query:
            validate_query(req.params, op.query)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource, req_succeeded: bool) -> None:
        """Put HEAD back (Falcon then sends no body) and add the CORS headers for a listed origin."""
        if getattr(req.context, "head", False):
            req.method = "HEAD"
        if self.policy.cors_origins:
            resp.append_header("Vary", "Origin")
        origin = req.get_header("Origin")
        if origin is not None and self.policy.origin_listed(origin):
            resp.set_header("Access-Control-Allow-Origin", origin)
            resp.set_header("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS)

    def _preflight(self, headers: dict[str, str], resp: falcon.Response) -> None:
        """Answer a listed origin's preflight with 204 (no token: browsers send none), refuse any other."""
        origin = headers["origin"]
        if not self.policy.origin_listed(origin):
            raise ForbiddenOrigin(f"Origin {origin!r} is not allowed; list it in QORVEN_CORS_ORIGINS")
        resp.status = 204
        resp.set_header("Access-Control-Allow-Methods", CORS_ALLOW_METHODS)
        resp.set_header("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS)
        resp.set_header("Access-Control-Max-Age", CORS_MAX_AGE_SECONDS)
        resp.complete = True

    @staticmethod
    def _check_media_type(req: falcon.Request, accepted: tuple[str, ...]) -> None:
        """Writes with a body send JSON, or a type the operation declares (an upload's multipart/form-data);
        webhooks take whatever their channel sends."""
        if req.method in BODY_METHODS and not req.context.webhook and (
                req.content_length or req.env.get("HTTP_TRANSFER_ENCODING")):
            media = (req.content_type or "").split(";")[0].strip().lower()
            if media != "application/json" and media not in accepted:
                raise UnsupportedMediaType(f"send Content-Type: {' or '.join(dict.fromkeys(('application/json', *accepted)))} "
                                           f"(got {media or 'none'!r})")

    def _charge_anonymous(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Charge a tokenless or refused request to its IP's anonymous bucket (raises 429 when empty)."""
        if req.context.limited:
            decision = self.limiter.anonymous.take(req.remote_addr or "unknown")
            self._advertise(resp, decision.policy.header, decision)

    def _advertise(self, resp: falcon.Response, policies: str, decision: Decision) -> None:
        resp.set_header("RateLimit-Policy", policies)
        resp.set_header("RateLimit", self.limiter.header(decision))
