"""Domain events of the client base, for the apps that must not be imported from here.

`artisan_approved` is sent once per approval, after the approving transaction has committed, with
`sender=contacts.models.Intervenant` and `intervenant_id=<int>`. The Redmine bridge connects to it
in its AppConfig.ready() to create the artisan's Redmine account (R3); a receiver gets an id, not
an instance, and fetches what it needs (it may run long after the request).
"""

from django.dispatch import Signal

artisan_approved = Signal()  # kwargs: intervenant_id
# Sent the same way when an artisan is refused or his approval revoked: the Redmine bridge locks
# the Redmine account it registered for him (R3).
artisan_withdrawn = Signal()  # kwargs: intervenant_id
