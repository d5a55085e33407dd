"""The classroom's ASGI app: `create_app(settings)` wires settings, storage, the round worker, the API and the pages.

Serve it with `loyalty-lab classroom` (uvicorn), or test it in-process with Starlette's TestClient.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Mount

from . import api, i18n
from .rounds import RoundWorker
from .settings import Settings
from .storage import Store

log = logging.getLogger("classroom")


def _pages():
    """The page routes and static files (classroom.pages); an API-only app until the pages exist."""
    if importlib.util.find_spec("classroom.pages") is None:
        log.warning("classroom.pages is missing: serving the JSON API only")
        return []
    from starlette.staticfiles import StaticFiles

    from . import pages
    return list(pages.routes) + [Mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")]


class BodyLimit:
    """413 with the API's error body for a request body over `max_body` bytes, declared or streamed."""

    def __init__(self, app, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_body:
            return await self._refuse(scope, receive, send, declared.decode("latin-1"))
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:  # a chunked body that keeps coming: the route's handler answers 413
                raise HTTPException(413)
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope, receive, send, declared):
        with i18n.use_language(i18n.request_language(Request(scope))):
            answer = api.error_response(413, "body", f"{declared} bytes", f"a request body of at most {self.max_body} bytes")
        await answer(scope, receive, send)


async def _too_large(request: Request, exc: HTTPException):
    with i18n.use_language(i18n.request_language(request)):
        return api.error_response(413, "body", "too large",
                                  f"a request body of at most {request.app.state.settings.max_body} bytes")


def create_app(settings: Settings) -> Starlette:
    """The classroom app on `settings`: its store is opened at once; the round worker stops with the app."""
    store = Store(settings.database_url, settings.token_pepper)
    if store.is_sqlite:
        store.recover_interrupted()  # one server per data folder: a round left running died with the last server

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        app.state.worker.shutdown()
        store.close()

    app = Starlette(routes=api.routes + _pages(), lifespan=lifespan, exception_handlers={413: _too_large},
                    middleware=[Middleware(BodyLimit, max_body=settings.max_body)])
    app.state.settings = settings
    app.state.store = store
    app.state.worker = RoundWorker(store, month_pause=settings.month_pause)
    app.state.join_limiter = api.JoinLimiter(*settings.join_rate_limit)
    return app
