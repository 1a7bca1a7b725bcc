"""`{% load ged %}`: what the documents partial needs to know about the owner."""

from django import template
from django.contrib.contenttypes.models import ContentType

from ged import access, services

register = template.Library()


@register.filter
def content_type_id(owner) -> int:
    """The id of the owner's content type (cached by Django: no query after the first)."""
    return ContentType.objects.get_for_model(owner).pk


@register.simple_tag
def ged_can_attach(user, owner) -> bool:
    return access.can_attach(user, owner)


@register.filter
def document_type_label(content_type: str) -> str:
    return services.TYPE_LABELS.get(content_type, content_type)


@register.simple_tag
def ged_accept() -> str:
    """The upload input's `accept` attribute, from GED_ALLOWED_CONTENT_TYPES."""
    return services.accept_attribute()


@register.simple_tag
def ged_accepted_types() -> str:
    """The allowed types in words, from GED_ALLOWED_CONTENT_TYPES."""
    return services.accepted_types_label()
