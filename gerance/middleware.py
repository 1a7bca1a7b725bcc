"""Middleware of the project itself."""

from gerance.views import healthz


class HealthzMiddleware:
    """Answer /healthz before the host name is checked against ALLOWED_HOSTS.

    Probes call the server by whatever name reaches it (`localhost` inside the container,
    an IP address for a load balancer), not by the public host name that ALLOWED_HOSTS lists:
    through the rest of the stack they would get 400 (DisallowedHost). The answer builds no URL
    from the Host header, which is all that the host check protects.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
