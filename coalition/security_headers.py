"""Security headers on every response: a script-free-inline CSP, no framing, no sniffing."""

from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, g

# Pages load scripts and styles from /static only; an inline <script> or <style> needs this
# request's nonce (`<script nonce="{{ csp_nonce() }}">`), which only the server can print.
# Style attributes are never allowed (SVG presentation attributes are not styles).
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This request's script nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def content_security_policy(nonce: str | None) -> str:
    """The policy, allowing scripts and style elements that carry `nonce` when a page printed it."""
    policy = dict(POLICY)
    if nonce:
        policy["script-src"] += f" 'nonce-{nonce}'"
        policy["style-src"] += f" 'nonce-{nonce}'"
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def add_security_headers(response: Response) -> Response:
    """Set the headers a view did not set itself (a view may answer with its own policy)."""
    policy = content_security_policy(g.get("csp_nonce"))
    response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["BASE_URL"].startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register_security_headers(app: Flask) -> None:
    """Send the headers from every response; HSTS only when BASE_URL is https."""
    app.after_request(add_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
