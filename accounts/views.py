from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def home(request):
    """The user's home page; its sections depend on the user's roles (see the template)."""
    return render(request, "accounts/home.html")
