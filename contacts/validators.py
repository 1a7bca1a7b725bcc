"""Contact details: French and overseas phone numbers, SIRET numbers.

Pure functions, no I/O: the model fields (contacts/fields.py) normalise with them, so that a number
is stored once in one form whatever the way it was typed.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Country codes of France and of its overseas departments and territories, with the length of
# the national significant number (what follows the country code).
COUNTRY_CODES = {
    "33": 9,  # metropolitan France
    "262": 9,  # La Réunion, Mayotte
    "590": 9,  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "594": 9,  # Guyane
    "596": 9,  # Martinique
    "508": 6,  # Saint-Pierre-et-Miquelon
    "681": 6,  # Wallis-et-Futuna
    "687": 6,  # Nouvelle-Calédonie
    "689": 8,  # Polynésie française
}

# Overseas departments share the French ten-digit numbering plan ("0590 12 34 56" dialled from
# Paris) but have their own country code: the first three digits after the 0 tell which one.
OVERSEAS_PREFIXES = {
    "590": "590",
    "690": "590",
    "691": "590",
    "594": "594",
    "694": "594",
    "596": "596",
    "696": "596",
    "697": "596",
    "262": "262",
    "263": "262",
    "692": "262",
    "693": "262",
    "269": "262",  # Mayotte (fixed)
    "639": "262",  # Mayotte (mobile)
}

_SEPARATORS = re.compile(r"[\s.\-/()]")

PHONE_ERROR = _(
    "Enter a French phone number, e.g. 01 23 45 67 89, 0590 12 34 56 or +33 1 23 45 67 89."
)


def normalize_phone(value: str) -> str:
    """Return `value` as an E.164 number (`+33123456789`), or raise ValidationError.

    Accepts the national form (`01 23 45 67 89`, `0692 12 34 56`), the international one
    (`+33 1 23 45 67 89`, `0033…`, `+33 (0)1…`) with spaces, dots, dashes or slashes.
    """
    raw = (value or "").strip()
    if not raw:
        return ""
    compact = raw.replace("(0)", "")
    compact = _SEPARATORS.sub("", compact)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        digits = compact[1:]
        if not digits.isdigit():
            raise ValidationError(PHONE_ERROR, code="invalid_phone")
        for code in sorted(COUNTRY_CODES, key=len, reverse=True):
            if digits.startswith(code):
                national = digits[len(code) :]
                break
        else:
            raise ValidationError(PHONE_ERROR, code="invalid_phone")
        if code == "33" and national.startswith("0"):
            national = national[1:]  # "+33 0 1 23…": a national 0 kept by mistake
    elif compact.startswith("0") and compact.isdigit() and len(compact) == 10:
        code, national = "33", compact[1:]
    else:
        raise ValidationError(PHONE_ERROR, code="invalid_phone")

    if code == "33" and national[:3] in OVERSEAS_PREFIXES:
        code = OVERSEAS_PREFIXES[national[:3]]
    if len(national) != COUNTRY_CODES[code] or not national.isdigit():
        raise ValidationError(PHONE_ERROR, code="invalid_phone")
    if COUNTRY_CODES[code] == 9 and national[0] == "0":
        raise ValidationError(PHONE_ERROR, code="invalid_phone")
    return f"+{code}{national}"


def format_phone(value: str) -> str:
    """`+33123456789` → `+33 1 23 45 67 89`; `+590590123456` → `+590 590 12 34 56`."""
    if not value or not value.startswith("+"):
        return value or ""
    digits = value[1:]
    for code in sorted(COUNTRY_CODES, key=len, reverse=True):
        if digits.startswith(code):
            national = digits[len(code) :]
            break
    else:
        return value
    if len(national) == 9 and code == "33":
        groups = [national[0]] + [national[i : i + 2] for i in range(1, 9, 2)]
    elif len(national) == 9:
        groups = [national[:3]] + [national[i : i + 2] for i in range(3, 9, 2)]
    else:
        groups = [national[i : i + 2] for i in range(0, len(national), 2)]
    return " ".join([f"+{code}", *groups])


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum (mod 10) used by SIREN and SIRET numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


# La Poste's establishments share one SIREN and do not follow the Luhn rule for their SIRET:
# INSEE checks them by the sum of their digits, a multiple of 5 (its head office, 356 000 000
# 00048, follows Luhn).
LA_POSTE_SIREN = "356000000"

SIRET_ERROR = _("Enter a valid SIRET number: 14 digits whose checksum is correct.")


def normalize_siret(value: str) -> str:
    """Return the 14 digits of `value` (spaces, dots, dashes removed), or raise ValidationError."""
    raw = (value or "").strip()
    if not raw:
        return ""
    digits = re.sub(r"[\s.\-]", "", raw)
    if not (digits.isdigit() and len(digits) == 14):
        raise ValidationError(SIRET_ERROR, code="invalid_siret")
    if digits.startswith(LA_POSTE_SIREN):
        valid = luhn_ok(digits) or sum(int(d) for d in digits) % 5 == 0
    else:
        valid = luhn_ok(digits[:9]) and luhn_ok(digits)
    if not valid:
        raise ValidationError(SIRET_ERROR, code="invalid_siret")
    return digits


def format_siret(value: str) -> str:
    """`73282932000074` → `732 829 320 00074` (SIREN in groups of three, then the NIC)."""
    if not value or len(value) != 14:
        return value or ""
    return f"{value[:3]} {value[3:6]} {value[6:9]} {value[9:]}"
