"""A loopback Salesforce REST API over HTTPS: the query resources as simple-salesforce
calls them, with Salesforce's status codes and error bodies.

    GET /services/data/vXX.X/query/?q=SOQL           first page (page_size records)
    GET /services/data/vXX.X/query/01g...-2000        the next page (nextRecordsUrl)

Every error is Salesforce's JSON list, `[{"message": ..., "errorCode": ...}]`: 401
INVALID_SESSION_ID for a missing or wrong `Authorization: Bearer` token, 403
REQUEST_LIMIT_EXCEEDED once the org's daily budget is spent, 400 MALFORMED_QUERY /
INVALID_FIELD / INVALID_TYPE / INVALID_QUERY_FILTER_OPERATOR / INVALID_QUERY_LOCATOR, 404
NOT_FOUND, 405 METHOD_NOT_ALLOWED; 414 and 431 past Salesforce's 16,384 bytes of URI and
headers. Answers carry `Sforce-Limit-Info: api-usage=used/limit`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.sandbox.salesforce.ids import new_id
from bot.sandbox.salesforce.org import Cursor, SalesforceOrg
from bot.sandbox.salesforce.soql import SoqlError, run
from bot.sandbox.salesforce.tls import LoopbackTls

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 2000  # the REST query resource's largest batch
DEFAULT_DAILY_LIMIT = 100_000
CURSOR_IDLE = timedelta(minutes=15)
MAX_URI_AND_HEADERS = 16_384
VERSIONS = {f"{major}.0" for major in range(31, 66)}
_PATH = re.compile(r"/services/data/v(?P<version>[0-9]+\.[0-9])/query(?:/(?P<locator>[^/]*))?")
_LOCATOR = re.compile(r"(?P<id>01g[A-Za-z0-9]{15})-(?P<offset>[0-9]{1,9})")
_DEFAULT_ERRORS = {
    400: ("MALFORMED_QUERY", "The request couldn't be understood."),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", "The requested resource does not exist"),
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
    ),
    503: ("SERVER_UNAVAILABLE", "The server is temporarily unable to service your request."),
}


@dataclass
class ApiCall:
    method: str
    path: str
    soql: str | None
    status: int
    error_code: str | None


@dataclass
class Failure:
    path_prefix: str
    times: int
    status: int
    error_code: str | None
    message: str | None


class _Answer(Exception):
    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


@dataclass
class SalesforceSandbox:
    org: SalesforceOrg = field(default_factory=SalesforceOrg)
    host: str = "127.0.0.1"
    page_size: int = DEFAULT_PAGE_SIZE
    daily_limit: int = DEFAULT_DAILY_LIMIT  # API requests per org per 24 hours

    def __post_init__(self) -> None:
        self.orgs: dict[str, SalesforceOrg] = {}
        self.usage: dict[str, int] = {}  # org id -> API requests counted
        self.calls: list[ApiCall] = []
        self.failures: list[Failure] = []
        self.instance_url = ""
        self._runner: web.AppRunner | None = None
        self._tls: LoopbackTls | None = None
        self.add_org(self.org)

    # --- lifecycle --------------------------------------------------------------------
    async def start(self, port: int = 0) -> str:
        """Serve on loopback; returns the instance URL (`https://127.0.0.1:<port>`)."""
        self._tls = LoopbackTls(self.host)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # aiohttp stops at 8,190-byte lines; Salesforce's own limit is 16,384 bytes.
        self._runner = web.AppRunner(
            app, access_log=None, max_line_size=32_768, max_field_size=32_768
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port, ssl_context=self._tls.context)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.instance_url = f"https://{self.host}:{bound}"
        return self.instance_url

    async def stop(self) -> None:
        if self._runner is not None:
            # A TLS connection's orderly close waits for the client's close_notify, which a
            # kept-alive client never sends: drop the connections, as a server going away.
            server = self._runner.server
            for handler in server.connections if server is not None else []:
                if handler.transport is not None:
                    handler.transport.abort()
            await self._runner.cleanup()
            self._runner = None
        if self._tls is not None:
            self._tls.close()
            self._tls = None

    @property
    def ca_file(self) -> str:
        """The CA certificate a client must trust (requests: `session.verify = ca_file`)."""
        if self._tls is None:
            raise RuntimeError("start() the sandbox first")
        return str(self._tls.ca_file)

    # --- test controls ----------------------------------------------------------------
    def add_org(self, org: SalesforceOrg) -> SalesforceOrg:
        self.orgs[org.access_token] = org
        self.usage.setdefault(org.organization_id, 0)
        return org

    def fail(
        self,
        path_prefix: str = "/",
        times: int = 1,
        status: int = 500,
        *,
        error_code: str | None = None,
        message: str | None = None,
    ) -> None:
        """The next `times` requests whose path starts with `path_prefix` fail with this
        status and Salesforce's error body for it (or the code and message given)."""
        self.failures.append(Failure(path_prefix, times, status, error_code, message))

    def revoke(self, org: SalesforceOrg | None = None) -> None:
        """The org's access token stops working (an admin revoked the connected app)."""
        target = org or self.org
        self.orgs = {token: o for token, o in self.orgs.items() if o is not target}

    def spend(self, requests: int, org: SalesforceOrg | None = None) -> None:
        """Count `requests` more against the org's daily budget."""
        target = org or self.org
        self.usage[target.organization_id] = self.usage.get(target.organization_id, 0) + requests

    def queries(self) -> list[str]:
        return [call.soql for call in self.calls if call.soql is not None]

    # --- requests ---------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        soql = request.query.get("q")
        try:
            status, body, org = self._answer(request)
        except _Answer as answer:
            self.calls.append(
                ApiCall(request.method, request.path, soql, answer.status, answer.error_code)
            )
            return _json(
                answer.status, [{"message": answer.message, "errorCode": answer.error_code}]
            )
        self.calls.append(ApiCall(request.method, request.path, soql, status, None))
        used = self.usage.get(org.organization_id, 0)
        headers = {"Sforce-Limit-Info": f"api-usage={used}/{self.daily_limit}"}
        return _json(status, body, headers)

    def _answer(self, request: web.Request) -> tuple[int, Any, SalesforceOrg]:
        size = len(request.raw_path) + sum(len(k) + len(v) + 4 for k, v in request.raw_headers)
        if len(request.raw_path) > MAX_URI_AND_HEADERS:
            raise _Answer(414, "URI_TOO_LONG", "URI Too Long")
        if size > MAX_URI_AND_HEADERS:
            raise _Answer(431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "Request Header Fields Too Large")
        self._injected(request.path)
        if not request.path.startswith("/services/data/"):
            raise _Answer(404, *_DEFAULT_ERRORS[404])
        org = self._authenticated(request)
        if request.method not in ("GET", "HEAD"):
            message = f"HTTP Method '{request.method}' not allowed. Allowed are GET,HEAD"
            raise _Answer(405, "METHOD_NOT_ALLOWED", message)
        used = self.usage.get(org.organization_id, 0)
        if used >= self.daily_limit:
            raise _Answer(403, *_DEFAULT_ERRORS[403])
        self.usage[org.organization_id] = used + 1
        match = _PATH.fullmatch(request.path)
        if match is None or match["version"] not in VERSIONS:
            raise _Answer(404, *_DEFAULT_ERRORS[404])
        version, locator = match["version"], match["locator"]
        if locator:
            return 200, self._more(org, locator, version), org
        return 200, self._query(org, request.query.get("q", ""), version), org

    def _injected(self, path: str) -> None:
        for failure in self.failures:
            if failure.times > 0 and path.startswith(failure.path_prefix):
                failure.times -= 1
                code, message = _DEFAULT_ERRORS.get(failure.status, _DEFAULT_ERRORS[500])
                raise _Answer(
                    failure.status, failure.error_code or code, failure.message or message
                )

    def _authenticated(self, request: web.Request) -> SalesforceOrg:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        org = self.orgs.get(token.strip()) if scheme == "Bearer" else None
        if org is None:
            raise _Answer(401, *_DEFAULT_ERRORS[401])
        return org

    def _query(self, org: SalesforceOrg, soql: str, version: str) -> dict[str, Any]:
        if not soql.strip():
            raise _Answer(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            records = run(org, soql, version)
        except SoqlError as error:
            raise _Answer(400, error.error_code, error.message) from None
        return self._page(org, records, version, None, 0)

    def _more(self, org: SalesforceOrg, locator: str, version: str) -> dict[str, Any]:
        match = _LOCATOR.fullmatch(locator)
        now = org.clock()
        self._expire(org, now)
        cursor = org.cursors.get(match["id"]) if match else None
        if match is None or cursor is None or int(match["offset"]) >= len(cursor.records):
            raise _Answer(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        cursor.last_used = now
        return self._page(org, cursor.records, version, match["id"], int(match["offset"]))

    def _page(
        self,
        org: SalesforceOrg,
        records: list[dict[str, Any]],
        version: str,
        locator: str | None,
        offset: int,
    ) -> dict[str, Any]:
        end = offset + self.page_size
        body: dict[str, Any] = {"totalSize": len(records), "done": end >= len(records)}
        if end < len(records):
            if locator is None:
                locator = new_id("01g")
                org.cursors[locator] = Cursor(records, version, org.clock())
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        elif locator is not None:
            org.cursors.pop(locator, None)
        body["records"] = records[offset:end]
        return body

    @staticmethod
    def _expire(org: SalesforceOrg, now: Any) -> None:
        for locator, cursor in list(org.cursors.items()):
            if now - cursor.last_used > CURSOR_IDLE:
                del org.cursors[locator]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        charset="UTF-8",
        headers=headers,
    )
