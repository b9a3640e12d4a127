from celery import shared_task

from citizens import services


@shared_task(name="citizens.erase_expired_contacts")
def erase_expired_contacts() -> int:
    return services.contacts_erase_expired()
