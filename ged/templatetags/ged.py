"""`{% load ged %}`: what the documents partial needs to know about the owner."""

from django import template
from django.contrib.contenttypes.models import ContentType

from ged import access
from ged.services import TYPE_LABELS

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
    return TYPE_LABELS.get(content_type, content_type)
