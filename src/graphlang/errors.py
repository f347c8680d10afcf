"""The one error hierarchy of graphlang.

Every failure a client can see is a ``GraphError``; ``graphlang.api.rendering`` turns it into the
Graph error envelope. Layers below HTTP raise these directly so that a message names the offending
property or parameter where the problem is detected.

    GraphError
    ├── BadRequest (400)            malformed input, unknown property, bad query option
    ├── Unauthenticated (401)       missing or invalid bearer token
    ├── Forbidden (403)             token lacks the permission the operation needs
    ├── NotFound (404)              unknown user, language or path
    ├── MethodNotAllowed (405)
    ├── PreconditionFailed (412)    If-Match does not match the item's ETag
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── FailedDependency (424)
    ├── TooManyRequests (429)       throttled, or an injected fault; with Retry-After
    ├── ServiceUnavailable (503)
    └── GatewayTimeout (504)        only as an injected fault
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class GraphError(Exception):
    status: int = 500
    code: str = "generalException"
    # innerError members every error of the class carries; ``inner`` adds to or overrides them.
    inner_defaults: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        inner: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})
        self.inner: dict[str, str] = {**self.inner_defaults, **(inner or {})}


class BadRequest(GraphError):
    status = 400
    code = "BadRequest"


class MalformedEntityTag(BadRequest):
    def __init__(self, source: str, value: str) -> None:
        super().__init__(
            f"The {source} value '{value}' is not a list of entity tags; ETags must be quoted strings "
            'such as W/"<etag>", or *.',
            inner={"code": "malformedEntityTag"},
        )


class Unauthenticated(GraphError):
    status = 401
    code = "InvalidAuthenticationToken"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        detail = (reason or message).replace('"', "'")
        super().__init__(
            message,
            headers={"WWW-Authenticate": f'Bearer realm="graphlang", error="invalid_token", '
                     f'error_description="{detail}"'},
        )


class Forbidden(GraphError):
    status = 403
    code = "ErrorInsufficientPermissionsInAccessToken"


class NotFound(GraphError):
    status = 404
    code = "itemNotFound"


class UserNotFound(NotFound):
    code = "Request_ResourceNotFound"

    def __init__(self, user: str) -> None:
        super().__init__(
            f"Resource '{user}' does not exist or one of its queried reference-property objects "
            "are not present."
        )


class LanguageNotFound(NotFound):
    code = "itemNotFound"

    def __init__(self, language_id: str) -> None:
        super().__init__(f"The languageProficiency with id '{language_id}' was not found.")


class MethodNotAllowed(GraphError):
    status = 405
    code = "MethodNotAllowed"

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__(
            f"The HTTP method '{method}' is not allowed on '{path}'. Allowed: {', '.join(allowed)}.",
            headers={"Allow": ", ".join(allowed)},
        )


class PreconditionFailed(GraphError):
    status = 412
    code = "PreconditionFailed"


class EntityTagMismatch(PreconditionFailed):
    """OneDrive's shape for a failed If-Match: ``resourceModified`` with ``entityTagDoesNotMatch`` inside."""

    code = "resourceModified"

    def __init__(self, message: str) -> None:
        super().__init__(message, inner={"code": "entityTagDoesNotMatch"})


class PayloadTooLarge(GraphError):
    status = 413
    code = "RequestEntityTooLarge"


class UnsupportedMediaType(GraphError):
    status = 415
    code = "UnsupportedMediaType"


class FailedDependency(GraphError):
    status = 424
    code = "FailedDependency"


class TooManyRequests(GraphError):
    """Graph's throttling answer (spec §6). Retry-After is whole seconds: the SDKs' retry handlers
    parse it as an integer and fall back to their own back-off for anything else."""

    status = 429
    code = "TooManyRequests"
    inner_defaults: ClassVar[Mapping[str, str]] = {"code": "429", "message": "Please retry after",
                                                   "status": "429"}

    def __init__(self, retry_after: int, message: str = "Please retry again later.", *,
                 code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(GraphError):
    status = 503
    code = "serviceNotAvailable"


class GatewayTimeout(GraphError):
    status = 504
    code = "gatewayTimeout"
