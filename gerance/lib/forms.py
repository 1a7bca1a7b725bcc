"""Show a service's refusal on the form that called it."""

from django.core.exceptions import ValidationError


def add_service_errors(form, error: ValidationError, *, aliases: dict | None = None) -> None:
    """Put each message of `error` under the field it names (renamed by `aliases`), else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            field = (aliases or {}).get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
