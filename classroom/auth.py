"""Who is asking: the instructor, a team, or nobody; and the CSRF check for requests that rely on cookies.

The instructor holds one token (settings.instructor_token), sent as `Authorization: Bearer ...` or in the cookie
`ll_instructor`; a team holds its team token, as a bearer token or in the cookie `ll_team_<game>`. No credentials
is 401; credentials that are wrong, or right for someone else, are 403. A state-changing request that proves who
it is by a cookie must also carry the double-submit CSRF token (cookie `ll_csrf` = header `X-CSRF-Token` or form
field `csrf_token`), because a browser sends cookies on requests that other sites make; a bearer token needs none.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

INSTRUCTOR_COOKIE = "ll_instructor"
CSRF_COOKIE = "ll_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class AuthError(Exception):
    """401 (no credentials) or 403 (wrong ones), naming what was expected."""

    def __init__(self, status: int, field: str, allowed: str):
        self.status, self.field, self.value, self.allowed = status, field, None, allowed
        super().__init__(f"{field}: {allowed}")

    def as_dict(self) -> dict:
        return {"field": self.field, "value": self.value, "allowed": self.allowed, "message": str(self)}


def team_cookie(game_id: str) -> str:
    return f"ll_team_{game_id}"


def bearer(request: Request) -> str | None:
    """The bearer token of the request, if it has one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _credential(request: Request, cookie: str) -> tuple[str | None, bool]:
    """(token, came from a cookie): the bearer token wins over the cookie."""
    token = bearer(request)
    if token:
        return token, False
    value = request.cookies.get(cookie)
    return (value, True) if value else (None, False)


def check_csrf(request: Request, form_token: str | None = None) -> None:
    """A cookie-authenticated request that changes state must echo the `ll_csrf` cookie (header or form field)."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise AuthError(403, CSRF_HEADER, f"the value of the {CSRF_COOKIE} cookie, in the {CSRF_HEADER} header")


def is_instructor(request: Request, settings) -> bool:
    """Whether the request carries the instructor's token (CSRF checked when it came by cookie)."""
    token, by_cookie = _credential(request, INSTRUCTOR_COOKIE)
    if not token or not hmac.compare_digest(token.encode(), settings.instructor_token.encode()):
        return False
    if by_cookie:
        check_csrf(request)
    return True


def require_instructor(request: Request, settings) -> None:
    """401 without credentials, 403 with a token that is not the instructor's."""
    token, _ = _credential(request, INSTRUCTOR_COOKIE)
    if not token:
        raise AuthError(401, "Authorization", "the instructor's token as 'Authorization: Bearer TOKEN'")
    if not is_instructor(request, settings):
        raise AuthError(403, "Authorization", "the instructor's token")


def require_team(request: Request, store, game_id: str, team_id: str, instructor_too: bool = False,
                 settings=None) -> str:
    """Allow only team `team_id` of `game_id` (and the instructor when `instructor_too`); returns who it is."""
    if instructor_too and is_instructor(request, settings):
        return "instructor"
    token, by_cookie = _credential(request, team_cookie(game_id))
    if not token:
        token, by_cookie = _credential(request, INSTRUCTOR_COOKIE)
    if not token:
        raise AuthError(401, "Authorization", "this team's token as 'Authorization: Bearer TOKEN'")
    team = store.team_by_token(game_id, token)
    if team is None or team["team"] != team_id:
        raise AuthError(403, "Authorization", "the token of this team (a team sees and changes only its own)")
    if by_cookie:
        check_csrf(request)
    return "team"
