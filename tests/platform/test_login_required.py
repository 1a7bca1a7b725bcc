"""Every page requires a login, except the login page, /healthz and static files.

Static files are proved public in test_static_files.py, through the whole middleware stack with
the production storage (the live server's StaticFilesHandler would bypass the middleware).
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# name → why an anonymous visitor may see it
PUBLIC = {
    "login": "the login page",
    "healthz": "probed by load balancers",
    "admin:login": "the admin's own login page",
}
SAMPLE_VALUES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "path": "x",
}


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield name, prefix + str(pattern.pattern)


def _sample_url(route: str) -> str:
    """Turn a route (path converters or a regex) into a concrete URL."""
    url = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_VALUES.get(m.group(1) or "str", "1"), route)
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "1", url)  # regex groups (the admin's)
    url = url.lstrip("^").rstrip("$").replace("\\", "")
    return "/" + url


ROUTES = sorted(set(_walk(get_resolver().url_patterns)), key=lambda item: item[1])


def test_it_walks_a_meaningful_number_of_routes():
    assert len(ROUTES) > 20
    assert {"home", "login", "logout", "healthz", "admin:index"} <= {name for name, _ in ROUTES}


@pytest.mark.parametrize(("name", "route"), ROUTES, ids=[f"{n}:{r}" for n, r in ROUTES])
@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_a_login_page(client, name, route):
    url = _sample_url(route)

    response = client.get(url)

    if name in PUBLIC:
        assert response.status_code in (200, 405), url
        return
    assert response.status_code == 302, (
        f"{url} answered {response.status_code} to an anonymous visitor"
    )
    assert response["Location"].startswith(("/connexion/", "/admin/login/")), response["Location"]
