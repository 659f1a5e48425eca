"""The HTTP side of talking to a Dagster webserver: one `httpx` client, raw POSTs of GraphQL
documents to `/graphql`, and the errors for a webserver that cannot be reached or rejects the
request itself.

The webserver answers a `PythonError` with HTTP 500 and a normal GraphQL body, so the body is
read before the status code is judged; the field-level error unions are `errors.py`'s concern.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

DEFAULT_WEBSERVER_URL = "http://127.0.0.1:3000"
DEFAULT_LOCATION_NAME = "negotiation_pipeline"  # workspace.yaml `location_name`
# A code location built from one `Definitions` object holds a single repository of this name.
DEFAULT_REPOSITORY_NAME = "__repository__"


class DagsterWebserverError(RuntimeError):
    """Base class: anything that went wrong talking to the webserver."""


class WebserverUnreachableError(DagsterWebserverError):
    """No HTTP answer at all (connection refused, DNS, timeout)."""


class GraphQLRequestError(DagsterWebserverError):
    """The webserver rejected the request itself (GraphQL `errors`, or a non-JSON answer)."""


class GraphQLTransport:
    """Posts GraphQL documents to one webserver. Use as a context manager (it owns an httpx
    client). `transport` is for tests only; every other argument is the operator's."""

    def __init__(
        self,
        url: str = DEFAULT_WEBSERVER_URL,
        *,
        timeout: float = 30.0,
        location_name: str = DEFAULT_LOCATION_NAME,
        repository_name: str = DEFAULT_REPOSITORY_NAME,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.location_name = location_name
        self.repository_name = repository_name
        self._http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL document; return its `data`. GraphQL-level `errors` raise."""
        response = self.request(
            "POST", "/graphql", json={"query": query, "variables": dict(variables or {})}
        )
        body = self.json_body(response)
        errors = body.get("errors")
        if errors:
            messages = "; ".join(str(e.get("message", e)) for e in errors)
            raise GraphQLRequestError(f"GraphQL request rejected: {messages}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise GraphQLRequestError(
                f"{self.url}/graphql answered HTTP {response.status_code} without data"
            )
        return data

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One HTTP request; a missing answer becomes WebserverUnreachableError."""
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise WebserverUnreachableError(
                f"cannot reach the Dagster webserver at {self.url} ({type(exc).__name__}: "
                f"{exc}); is it running? Start it with `negotiation-pipeline dev`."
            ) from exc

    @staticmethod
    def json_body(response: httpx.Response) -> dict[str, Any]:
        """The response's JSON object; anything else raises GraphQLRequestError."""
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphQLRequestError(
                f"{response.request.url} answered HTTP {response.status_code} with a non-JSON "
                "body; is this URL a Dagster webserver?"
            ) from exc
        if not isinstance(body, dict):
            raise GraphQLRequestError(f"{response.request.url} answered JSON that is no object")
        return body
