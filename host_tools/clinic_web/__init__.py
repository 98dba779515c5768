"""`e2mon clinic serve`: the clinic's page (Starlette, Jinja2 templates, local CSS, no JavaScript).

Every page but the login form needs a session (host_tools.clinic_auth); every form carries a CSRF token;
patients are named in URLs only by opaque ids (an HMAC of the device id under a key made at start), never by
label or device id; the access log holds method, path and status only. Read-only: no page changes a profile
or a record.

    app = make_app(db)      # db: the host database's path or URL
"""
import hashlib
import hmac
import logging
import os
import secrets

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from host_tools import clinic_auth, clinic_view
from host_tools.db import HostDB

HERE = os.path.dirname(os.path.abspath(__file__))
SESSION_COOKIE = "e2mon_session"
LOGIN_COOKIE = "e2mon_login"     # the login form's CSRF token (no session yet)
access_log = logging.getLogger("e2mon.clinic.access")
PUBLIC = ("/login", "/static/")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


class PatientIds:
    """Opaque ids for URLs: HMAC-SHA256(device id) under a key made when the server starts."""

    def __init__(self):
        self._key = secrets.token_bytes(32)

    def of(self, device_id):
        return hmac.new(self._key, device_id.encode(), hashlib.sha256).hexdigest()[:24]

    def device(self, db, pid):
        with HostDB(db, create=False) as host:
            for device_id in host.devices():
                if not host.is_archive(device_id) and hmac.compare_digest(self.of(device_id), pid):
                    return device_id
        return None


def make_app(db, idle_seconds=clinic_auth.IDLE_SECONDS, secure_cookies=False):
    templates = Jinja2Templates(directory=os.path.join(HERE, "templates"))
    ids = PatientIds()

    def set_cookie(response, name, value, max_age):
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", path="/",
                            secure=secure_cookies)

    def page(request, name, status=200, **context):
        context.setdefault("user", request.state.user)
        return templates.TemplateResponse(request, name, context, status_code=status)

    def login_form(request, error=None, status=200):
        # the token already given stays (a favicon fetch sent to the login must not replace the form's)
        token = request.cookies.get(LOGIN_COOKIE)
        if not token or len(token) != 43:
            token = secrets.token_urlsafe(32)
        response = page(request, "login.html", status, csrf=token, error=error,
                        expired=request.query_params.get("expired") == "1")
        set_cookie(response, LOGIN_COOKIE, token, 600)
        return response

    async def login_get(request):
        return login_form(request)

    async def login_post(request):
        form = await request.form()
        if not clinic_auth.csrf_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
            return PlainTextResponse("the form's CSRF token is missing or wrong: reload the page", 403)
        made = clinic_auth.login(db, str(form.get("username", "")), str(form.get("password", "")))
        if made is None:
            return login_form(request, "Wrong user name or password (after %d in a row an account waits %d "
                                       "minutes)." % (clinic_auth.LOCK_AFTER, clinic_auth.LOCK_SECONDS // 60), 401)
        response = RedirectResponse("/", 303)
        set_cookie(response, SESSION_COOKIE, made[0], clinic_auth.ABSOLUTE_SECONDS)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    async def logout(request):
        clinic_auth.logout(db, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", 303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def overview(request):
        patients = clinic_view.overview(db)
        for p in patients:
            p["pid"] = ids.of(p["device_id"])
        return page(request, "overview.html", patients=patients)

    def patient_or_404(request):
        device_id = ids.device(db, request.path_params["pid"])
        if device_id is None:
            return None, HTMLResponse("no such patient (ids change when the server restarts: start from the "
                                      "overview)", 404)
        return device_id, None

    async def patient(request):
        device_id, missing = patient_or_404(request)
        if missing:
            return missing
        info = clinic_view.patient(db, device_id)
        return page(request, "patient.html", p=info, pid=request.path_params["pid"],
                    formats=sorted(clinic_view.EXPORT_TYPES))

    async def report_page(request):
        device_id, missing = patient_or_404(request)
        if missing:
            return missing
        return HTMLResponse(clinic_view.report_html(db, device_id))

    async def trends(request):
        device_id, missing = patient_or_404(request)
        if missing:
            return missing
        return Response(clinic_view.report_png(db, device_id), media_type="image/png")

    async def export(request):
        device_id, missing = patient_or_404(request)
        if missing:
            return missing
        form = await request.form()
        fmt = form.get("format")
        if fmt not in clinic_view.EXPORT_TYPES:
            return PlainTextResponse("unknown export format", 400)
        text, media, suffix = clinic_view.export(db, device_id, fmt)
        return Response(text, media_type=media, headers={
            "Content-Disposition": 'attachment; filename="e2mon-%s.%s"' % (request.path_params["pid"], suffix)})

    routes = [
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", overview),
        Route("/p/{pid:str}", patient),
        Route("/p/{pid:str}/report", report_page),
        Route("/p/{pid:str}/trends.png", trends),
        Route("/p/{pid:str}/export", export, methods=["POST"]),
        Mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static"),
    ]
    middleware = [Middleware(Guard, db=db, idle_seconds=idle_seconds)]
    return Starlette(routes=routes, middleware=middleware)


class Guard(BaseHTTPMiddleware):
    """No page without a session; every POST checks the session's CSRF token; the security headers; one
    access-log line of method, path (opaque ids only) and status."""

    def __init__(self, app, db, idle_seconds):
        super().__init__(app)
        self.db = db
        self.idle_seconds = idle_seconds

    async def dispatch(self, request, call_next):
        response = await self._guarded(request, call_next)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        access_log.info("%s %s %d", request.method, request.url.path, response.status_code)
        return response

    async def _guarded(self, request, call_next):
        request.state.user = None
        path = request.url.path
        if path == "/login" or path.startswith("/static/"):
            return await call_next(request)
        had_cookie = SESSION_COOKIE in request.cookies
        found = clinic_auth.session(self.db, request.cookies.get(SESSION_COOKIE), idle=self.idle_seconds)
        if found is None:
            response = RedirectResponse("/login?expired=1" if had_cookie else "/login", 303)
            if had_cookie:
                response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        request.state.user = found["username"]
        request.state.csrf = found["csrf"]
        if request.method == "POST":
            await request.body()    # cached, so the endpoint reads the same form again
            form = await request.form()
            if not clinic_auth.csrf_ok(found["csrf"], form.get("csrf")):
                return PlainTextResponse("the form's CSRF token is missing or wrong: reload the page", 403)
        elif request.method not in ("GET", "HEAD"):
            return PlainTextResponse("read-only", 405)
        return await call_next(request)
