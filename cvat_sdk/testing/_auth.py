"""Who is calling, and in which organization: CVAT's token, session and basic authentication.

As in CVAT (DRF), a token is tried first, then a session, then basic credentials. A request
authenticated by its session cookie must repeat the `csrftoken` cookie in `X-CSRFToken` when its
method is unsafe.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING

from ._http import HttpError, Reply
from ._store import now

if TYPE_CHECKING:
    from email.message import Message

    from ._http import Call
    from ._store import Organization, Store, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = [("WWW-Authenticate", "Token")]


def authenticate(store: Store, headers: Message, method: str, *, required: bool) -> User | None:
    scheme, _, credentials = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "token":
        user = store.tokens.get(credentials.strip())
        if user is None:
            raise HttpError(401, "Invalid token.", _CHALLENGE)
        return user
    cookies = _cookies(headers)
    session_user = store.sessions.get(cookies.get("sessionid", ""))
    if session_user is not None:
        if method not in SAFE_METHODS:
            csrf = headers.get("X-CSRFToken")
            if not csrf:
                raise HttpError(403, "CSRF Failed: CSRF token missing.")
            if csrf != cookies.get("csrftoken"):
                raise HttpError(403, "CSRF Failed: CSRF token incorrect.")
        return session_user
    if scheme.lower() == "basic":
        try:
            username, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise HttpError(401, "Invalid basic header.", _CHALLENGE) from None
        user = store.user_named(username)
        if user is None or user.password != password:
            raise HttpError(401, "Invalid username/password.", _CHALLENGE)
        return user
    if required:
        raise HttpError(401, "Authentication credentials were not provided.", _CHALLENGE)
    return None


def organization(
    store: Store, query: dict[str, str], headers: Message, user: User
) -> Organization | None:
    """The org a request works in: `org_id`, `org` (slug) or X-Organization; empty means none."""
    if query.get("org_id"):
        found = store.organizations.get(int(query["org_id"])) if query["org_id"].isdigit() else None
    else:
        slug = query.get("org", headers.get("X-Organization", ""))
        if not slug:
            return None
        found = next((o for o in store.organizations.values() if o.slug == slug), None)
    if found is None:
        raise HttpError(404, "Organization not found.")
    if not store.can_access(user, found):
        raise HttpError(403, "You are not a member of this organization.")
    return found


def login(call: Call) -> Reply:
    """Answers the REST token and opens a session (sessionid and csrftoken cookies)."""
    body = call.json()
    name = str(body.get("username") or body.get("email", "")).removesuffix("@example.com")
    user = call.store.user_named(name)
    if "password" not in body:
        raise HttpError(400, {"password": ["This field is required."]})
    if user is None or user.password != body["password"]:
        raise HttpError(400, {"non_field_errors": ["Unable to log in with provided credentials."]})
    token = call.store.token_for(user)
    session_id, csrf = secrets.token_hex(16), secrets.token_hex(16)
    call.store.sessions[session_id] = user
    user.last_login = now()
    cookies = [
        ("Set-Cookie", f"sessionid={session_id}; HttpOnly; Path=/; SameSite=Lax"),
        ("Set-Cookie", f"csrftoken={csrf}; Path=/; SameSite=Lax"),
    ]
    return Reply.json(200, {"key": token}, cookies)


def logout(call: Call) -> Reply:
    """Ends the caller's session and deletes the caller's token, as CVAT does."""
    if call.user is not None:
        for key in [k for k, u in call.store.tokens.items() if u is call.user]:
            del call.store.tokens[key]
        call.store.sessions.pop(_cookies(call.headers).get("sessionid", ""), None)
    expired = "sessionid=; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
    return Reply.json(200, {"detail": "Successfully logged out."}, [("Set-Cookie", expired)])


def _cookies(headers: Message) -> dict[str, str]:
    try:
        jar = SimpleCookie(headers.get("Cookie", ""))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}
