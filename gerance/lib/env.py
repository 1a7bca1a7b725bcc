"""django-environ, with booleans and numbers that refuse what they cannot read.

django-environ reads any word it does not know as False (`SESSION_COOKIE_SECURE=oui` would turn a
security setting off without a word) and lets `int("25MB")` raise a ValueError that names no
variable. Here an unreadable value stops the start-up with ImproperlyConfigured, naming the
variable and the value.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"true", "1", "yes", "on", "oui"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "non"})


class Env(environ.Env):
    def _raw(self, var: str) -> str | None:
        """The variable's text, or None when it is unset or empty (an empty value means unset)."""
        value = self.get_value(var, default=None)
        if value is None or not value.strip():
            return None
        return value.strip()

    def _default(self, var: str, default):
        if default is self.NOTSET:
            raise ImproperlyConfigured(f"Set the {var} environment variable.")
        return default

    def bool(self, var: str, default=environ.Env.NOTSET):
        """true/false, 1/0, yes/no, on/off or oui/non, in any case."""
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(
            f"{var}={raw!r} is not a boolean: use true or false (or 1/0, yes/no, on/off, oui/non)."
        )

    def int(self, var: str, default=environ.Env.NOTSET):
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        try:
            return int(raw)
        except ValueError:
            raise ImproperlyConfigured(
                f"{var}={raw!r} is not a whole number (write digits only, e.g. 26214400)."
            ) from None

    def float(self, var: str, default=environ.Env.NOTSET):
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        try:
            return float(raw)
        except ValueError:
            raise ImproperlyConfigured(
                f"{var}={raw!r} is not a number (a dot before the decimals, e.g. 0.75)."
            ) from None
