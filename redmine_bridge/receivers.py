"""Receivers of the other apps' signals, connected in RedmineBridgeConfig.ready()."""

from redmine_bridge import services


def on_artisan_approved(sender, intervenant_id: int, **kwargs) -> None:
    services.artisan_account_request(intervenant_id=intervenant_id)


def on_artisan_withdrawn(sender, intervenant_id: int, **kwargs) -> None:
    services.artisan_account_resync(intervenant_id=intervenant_id)


def on_artisan_withdrawn_work_requests(sender, intervenant_id: int, **kwargs) -> None:
    services.work_requests_withdraw(intervenant_id=intervenant_id)
