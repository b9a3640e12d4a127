from celery import shared_task


@shared_task(name="demo.move_units")
def move_units() -> int:
    from demo import incidents

    return incidents.units_move()
