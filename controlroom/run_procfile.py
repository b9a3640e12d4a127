"""``make run``'s process manager: honcho, given the time to stop its processes cleanly.

On Ctrl-C honcho sends SIGTERM to every process, then SIGKILL to what still runs five seconds
after the first one stopped; an idle Celery worker needs about eight seconds for its warm
shutdown (its consumer notices the signal within two seconds, then closes its pool, consumer and
connections). Every Procfile process runs under ``controlroom.supervise``, which ends its own
process within its grace; honcho here waits a little longer than that.
"""

import sys

import honcho.manager
from honcho.command import main

from controlroom.supervise import GRACE_SECONDS

honcho.manager.KILL_WAIT = GRACE_SECONDS + 3

if __name__ == "__main__":
    sys.exit(main())
