"""Model fields that store contact details in one normalised form.

`Model.full_clean()` replaces each value by its field's `clean()` result, so a number typed as
"01 23 45 67 89" in a form, a CSV file or the admin is stored as "+33123456789" and compared,
searched and de-duplicated in that form. (Not in `to_python()`: Django also runs it on the
values of queries, where a partial number must not raise.)
"""

from django.db import models

from contacts.validators import normalize_phone, normalize_siret


class PhoneNumberField(models.CharField):
    """A French or overseas phone number, stored in E.164 form (`+590590123456`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)

    def clean(self, value, model_instance):
        return super().clean(normalize_phone(super().to_python(value) or ""), model_instance)


class SiretField(models.CharField):
    """A SIRET number: 14 digits with a valid checksum."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 14)
        super().__init__(*args, **kwargs)

    def clean(self, value, model_instance):
        return super().clean(normalize_siret(super().to_python(value) or ""), model_instance)
