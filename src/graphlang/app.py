"""The ASGI application: request ids, authentication, routing, and rendering of every outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from graphlang.api import languages
from graphlang.api.context import Answered, RequestContext, without_invalid_host
from graphlang.api.rendering import error_response, finish
from graphlang.api.routing import Route, Router, split_path
from graphlang.config import Settings
from graphlang.errors import BadRequest, GraphError, MethodNotAllowed, NotFound
from graphlang.ops.turns import EndOfTurn
from graphlang.services import Services, create_services

log = logging.getLogger("graphlang")

# A guard runs after authentication and routing, before the handler; it may answer instead
# (throttling, injected faults). An observer sees every finished response (journal, metrics, logs):
# at the end of each event-loop turn, all the responses that turn answered, together.
Guard = Callable[[RequestContext], Awaitable[Response | None]]
Observer = Callable[[Sequence[Answered]], None]
# A responder answers before routing and authentication (CORS preflight); a finisher adds headers to
# every finished response (CORS) before the observers see it.
Responder = Callable[[RequestContext], Response | None]
Finisher = Callable[[RequestContext, Response], None]

COLLECTION = {"GET": languages.list_languages, "POST": languages.create_language,
              "PATCH": languages.upsert_language}
ITEM = {"GET": languages.get_language, "PATCH": languages.update_language,
        "DELETE": languages.delete_language}


def graph_routes() -> list[Route]:
    """Routes under the version segment (``/beta``)."""
    routes: list[Route] = []
    for owner in (("me",), ("users", "{user}")):
        base = (*owner, "profile", "languages")
        routes.append(Route(base, COLLECTION))
        routes.append(Route((*base, "$count"), {"GET": languages.count_languages}))
        routes.append(Route((*base, "{language}"), ITEM))
    routes.append(Route(("user", "{user}", "profile", "languages"), {"PATCH": languages.upsert_language}))
    return routes


class GraphlangApp:
    def __init__(self, services: Services, *, extra_graph_routes: Sequence[Route] = (),
                 public_routes: Sequence[Route] = (), guards: Sequence[Guard] = (),
                 observers: Sequence[Observer] = ()) -> None:
        self.services = services
        self._graph_routes = [*extra_graph_routes, *graph_routes()]
        self._public_routes = list(public_routes)
        self.graph = Router(self._graph_routes)
        self.public = Router(self._public_routes)
        self.guards = list(guards)
        self.observers = list(observers)
        self.responders: list[Responder] = []
        self.finishers: list[Finisher] = []
        self.on_shutdown: list[Callable[[], None]] = []
        self.in_flight = 0  # requests being handled (those of a $batch each count)
        self._answered: list[Answered] = []
        self._observation = EndOfTurn(self.observe_answered)
        if services.group_commit is not None:
            services.group_commit.alone = self._alone

    def observe_answered(self) -> None:
        """Show the observers every response answered since they last looked.

        Called at the end of each event-loop turn, after its responses have gone out, and before anything
        reads what the observers keep. One observer after another, each given all of the turn's
        responses: under load a turn answers many requests, and the same code run over all of them in
        one go stays in the processor's caches (docs/performance.md, step 33), and does what it does
        once per turn (a clock read, a check of its settings) only once (step 40).
        """
        answered, self._answered = self._answered, []
        if not answered:
            return
        for observer in self.observers:
            try:
                observer(answered)
            except Exception:  # one failing observer must not keep the others from their requests
                log.exception("an observer failed", extra={"observer": getattr(observer, "__qualname__", "")})

    def _alone(self) -> bool:
        return self.in_flight == 1

    def add_graph_routes(self, *routes: Route) -> None:
        """Routes under the version segment; they require a bearer token."""
        self._graph_routes[:0] = routes
        self.graph = Router(self._graph_routes)

    def add_public_routes(self, *routes: Route) -> None:
        """Routes outside /beta (discovery, control API, metrics); each handler checks its own access."""
        self._public_routes.extend(routes)
        self.public = Router(self._public_routes)

    def served_routes(self) -> list[tuple[str, Route]]:
        """Every route with its full path template: the public ones, then those under /beta."""
        return [(route.template, route) for route in self._public_routes] + [
            (f"/beta{route.template}", route) for route in self._graph_routes
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        scope, refusal = without_invalid_host(scope)
        ctx = RequestContext(Request(scope, receive), self.services)
        response = await self.handle(ctx, refusal)
        await response(scope, receive, send)

    async def handle(self, ctx: RequestContext, refusal: GraphError | None = None) -> Response:
        """Dispatch one request to a finished response, or answer ``refusal``; every failure is
        rendered here."""
        started = time.perf_counter()
        self.in_flight += 1
        try:
            if refusal is not None:
                raise refusal
            response = await self.dispatch(ctx)
        except GraphError as error:
            response = error_response(ctx, error)
        except Exception:
            log.exception("unhandled error", extra={"request_id": ctx.request_id})
            response = error_response(ctx, GraphError("An internal server error occurred."))
        finally:
            self.in_flight -= 1
        finish(ctx, response)
        for finisher in self.finishers:
            finisher(ctx, response)
        self._answered.append((ctx, response, time.perf_counter() - started))
        self._observation.schedule()
        return response

    async def dispatch(self, ctx: RequestContext) -> Response:
        for responder in self.responders:
            answer = responder(ctx)
            if answer is not None:
                return answer
        try:
            segments = split_path(ctx.request.scope.get("raw_path") or ctx.request.url.path.encode())
        except UnicodeDecodeError as exc:
            raise BadRequest("The request path is not valid percent-encoded UTF-8.") from exc
        found = self.public.match(segments)
        if found is not None:
            # Outside /beta are the routes that read what the observers keep (metrics, the journal,
            # the permission report) or reset it: they see every response answered before them.
            self.observe_answered()
            route, params = found
            ctx.route = route.template
            return await self._call(ctx, route, params)
        if not segments or segments[0].lower() not in ("beta", "v1.0"):
            raise NotFound(f"No resource matches the path '{ctx.request.url.path}'.", code="UnknownPath")
        version, rest = segments[0].lower(), segments[1:]
        ctx.version = version
        found = self.graph.match(rest)
        if found is not None:
            # Known before authentication, so that metrics and logs name the route of a 401 too.
            ctx.route = f"/{version}{found[0].template}"
        ctx.principal = await self.services.authenticator.authenticate_request(
            ctx.header_values(b"authorization"))
        if version == "v1.0":
            _reject_v1(ctx, rest)
        if found is None:
            raise NotFound(f"No resource matches the path '{ctx.request.url.path}'.", code="UnknownPath")
        route, params = found
        return await self._call(ctx, route, params)

    async def _call(self, ctx: RequestContext, route: Route, params: dict[str, str]) -> Response:
        handler = route.methods.get(ctx.method)
        if handler is None:
            raise MethodNotAllowed(ctx.method, ctx.request.url.path, sorted(route.methods))
        for guard in self.guards:
            answer = await guard(ctx)
            if answer is not None:
                return answer
        return await handler(ctx, params)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.observe_answered()
                for callback in self.on_shutdown:
                    callback()
                self.services.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _reject_v1(ctx: RequestContext, rest: list[str]) -> None:
    """The profile API exists only in beta; v1.0 answers as Graph does for a segment it lacks."""
    for segment in rest:
        if segment.lower() == "profile":
            raise BadRequest(f"Resource not found for the segment '{segment}'.")
    raise NotFound(f"No resource matches the path '{ctx.request.url.path}' in v1.0; graphlang serves "
                   "the beta profile API.", code="UnknownPath")


def create_app(settings: Settings | None = None, services: Services | None = None) -> GraphlangApp:
    """Build the application; nothing happens at import time."""
    from graphlang.features import FEATURES

    if services is None:
        services = create_services(settings or Settings.from_env())
    app = GraphlangApp(services)
    for install in FEATURES:
        install(app)
    return app
