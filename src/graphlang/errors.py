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
    ├── PreconditionFailed (412)
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── FailedDependency (424)
    ├── TooManyRequests (429)
    └── ServiceUnavailable (503)
"""

from __future__ import annotations

from collections.abc import Mapping


class GraphError(Exception):
    status: int = 500
    code: str = "generalException"

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
        self.inner: dict[str, str] = dict(inner or {})


class BadRequest(GraphError):
    status = 400
    code = "BadRequest"


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
    status = 429
    code = "TooManyRequests"


class ServiceUnavailable(GraphError):
    status = 503
    code = "serviceNotAvailable"
