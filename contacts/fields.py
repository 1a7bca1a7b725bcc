"""Model fields that store contact details in one normalised form.

`Model.full_clean()` replaces each value by its field's `clean()` result, so a number typed as
"01 23 45 67 89" in a form, a CSV file or the admin is stored as "+33123456789" and compared,
searched and de-duplicated in that form. (Not in `to_python()`: Django also runs it on the
values of queries, where a partial number must not raise.)

Their form fields normalise too, and accept more characters than the column holds: the written
forms ("+590 590 12 34 56", "732 829 320 00074") are longer than the stored ones, and a form
field's own length check runs before any normalisation.
"""

from django import forms
from django.db import models

from contacts.validators import normalize_phone, normalize_siret


class NormalizedFormField(forms.CharField):
    """A form field that stores `normalize(value)`; the typed value may be this long."""

    normalize = staticmethod(lambda value: value)
    typed_max_length = 0

    def __init__(self, *, max_length=None, **kwargs):
        # The model's max_length is the stored form's: too short for the typed one.
        super().__init__(max_length=self.typed_max_length, **kwargs)

    def to_python(self, value):
        return self.normalize(super().to_python(value))


class PhoneNumberFormField(NormalizedFormField):
    normalize = staticmethod(normalize_phone)
    # "0033 (0)5 90 12 34 56" is 21 characters; room for other spacings.
    typed_max_length = 32


class SiretFormField(NormalizedFormField):
    normalize = staticmethod(normalize_siret)
    # "732 829 320 00074" or "732.829.320.00074" is 17 characters.
    typed_max_length = 24


class PhoneNumberField(models.CharField):
    """A French or overseas phone number, stored in E.164 form (`+590590123456`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)

    def clean(self, value, model_instance):
        return super().clean(normalize_phone(super().to_python(value) or ""), model_instance)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PhoneNumberFormField, **kwargs})


class SiretField(models.CharField):
    """A SIRET number: 14 digits with a valid checksum."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 14)
        super().__init__(*args, **kwargs)

    def clean(self, value, model_instance):
        return super().clean(normalize_siret(super().to_python(value) or ""), model_instance)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": SiretFormField, **kwargs})
