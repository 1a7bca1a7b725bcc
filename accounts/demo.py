"""Demo users, one per role, for `manage.py seed_demo`."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.roles import Role

DEMO_USERS = [
    # username, password, role, first name, last name, admin access
    ("gestionnaire", "gestionnaire-demo", Role.GESTIONNAIRE, "Claire", "Martin", False),
    ("direction", "direction-demo", Role.DIRECTION, "Paul", "Durand", True),
    ("juridique", "juridique-demo", Role.LEGAL, "Sophie", "Bernard", False),
]


def seed(stdout) -> None:
    User = get_user_model()
    for username, password, role, first_name, last_name, is_staff in DEMO_USERS:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": is_staff,
                "email": f"{username}@gerance.localhost",
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        user.groups.set([Group.objects.get(name=role.value)])
        stdout.write(f"  {role.value:<18} login: {username:<13} password: {password}")
