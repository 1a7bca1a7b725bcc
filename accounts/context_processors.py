from accounts.roles import Role, user_roles


def roles(request):
    """Expose the user's roles to templates (navigation by role)."""
    current = user_roles(request.user) if hasattr(request, "user") else frozenset()
    return {
        "roles": current,
        "is_gestionnaire": Role.GESTIONNAIRE in current,
        "is_direction": Role.DIRECTION in current,
        "is_legal": Role.LEGAL in current,
    }
