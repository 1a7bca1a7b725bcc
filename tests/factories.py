import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from accounts.roles import Role

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda user: f"{user.username}@agence.example")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """`UserFactory(roles=[Role.DIRECTION])` puts the user in the role's group."""
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=[Role(r).value for r in extracted]))


# --- contacts -------------------------------------------------------------------------------
def _luhn_complete(digits: str) -> str:
    """`digits` followed by the check digit that makes the Luhn sum a multiple of 10."""
    from contacts.validators import luhn_ok

    return next(digits + str(d) for d in range(10) if luhn_ok(digits + str(d)))


def valid_siret(n: int) -> str:
    """A SIRET with correct checksums (SIREN and SIRET), distinct for each `n`."""
    siren = _luhn_complete(f"{(n * 7919) % 10**8 + 10**7:08d}")
    return _luhn_complete(siren + "0001")


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = "contacts.Client"

    reference = factory.Sequence(lambda n: f"CLI{n:05d}")
    name = factory.Faker("name", locale="fr_FR")
    kind = "owner"
    email = factory.Sequence(lambda n: f"client{n}@exemple.fr")


class DossierFactory(DjangoModelFactory):
    class Meta:
        model = "contacts.Dossier"

    reference = factory.Sequence(lambda n: f"D-2026-{n + 90000:05d}")
    client = factory.SubFactory(ClientFactory)
    property_address = factory.Sequence(lambda n: f"{n % 200 + 1} rue Victor Hugo")
    postal_code = "97200"
    city = "Fort-de-France"
    gestionnaire = factory.SubFactory(UserFactory, roles=[Role.GESTIONNAIRE])


def _default_category(kind: str) -> str:
    from contacts.models import Intervenant

    return Intervenant.default_category(kind)


class IntervenantFactory(DjangoModelFactory):
    class Meta:
        model = "contacts.Intervenant"

    name = factory.Sequence(lambda n: f"Maître Intervenant {n}")
    kind = "notary"
    category = factory.LazyAttribute(lambda o: _default_category(o.kind))
    email = factory.Sequence(lambda n: f"intervenant{n}@exemple.fr")


class ArtisanFactory(IntervenantFactory):
    name = factory.Sequence(lambda n: f"Plomberie Artisan {n}")
    kind = "artisan"
    siret = factory.Sequence(valid_siret)


class MandateFactory(DjangoModelFactory):
    class Meta:
        model = "contacts.Mandate"

    intervenant = factory.SubFactory(IntervenantFactory)
    client = factory.SubFactory(ClientFactory)
    direction = "by"
    valid_from = datetime.date(2026, 1, 1)
    created_by = factory.SubFactory(UserFactory, roles=[Role.GESTIONNAIRE])
