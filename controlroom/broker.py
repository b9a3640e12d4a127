"""The embedded Celery broker: kombu's filesystem transport, safe for several processes.

kombu writes a message file, and an exchange's table of queues, in place: another process can
list the file and read it while it is still empty or half written, and a worker then dies on the
JSON. Here every file is written beside its final name and renamed into place (atomic on POSIX):
a reader sees the whole file or no file. Writers of an exchange table take turns on a lock file.
A reader takes a message by renaming it into the processed folder (which must be on the same
filesystem as the queue); a message that cannot be read anyway (left by an older writer) is set
aside there with an error in the log instead of stopping the worker.

Selected by ``CELERY_BROKER_TRANSPORT`` with the ``filesystem://`` URL.
"""

import fcntl
import logging
import os
import tempfile
import uuid
from contextlib import contextmanager, suppress
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


def write_atomically(path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all. The partial file's name (``.*.partial``)
    matches no queue, so readers never pick it up."""
    fd, partial = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".",
                                   suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(partial, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(partial)
        raise


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put a message on ``queue``: the same file name as kombu's, written atomically."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        try:
            write_atomically(os.path.join(self.data_folder_out, name),
                             str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc

    def _get(self, queue):
        """Take the oldest message of ``queue``: moved into the processed folder (one rename, so
        one taker), read, then removed unless processed messages are kept."""
        suffix = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != suffix:
                continue
            taken = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except FileNotFoundError:
                continue  # another worker took it
            except OSError as exc:
                raise ChannelError(f"Cannot take file {name!r} from queue.") from exc
            try:
                with open(taken, "rb") as file:
                    message = loads(bytes_to_str(file.read()))
            except (OSError, ValueError):
                logger.exception("Unreadable message set aside: %s.unreadable", taken)
                with suppress(OSError):
                    os.rename(taken, f"{taken}.unreadable")
                continue
            if not self.store_processed:
                os.unlink(taken)
            return message
        raise filesystem.Empty()

    # --- exchange tables: replaced whole, one writer at a time ----------------------------------
    @contextmanager
    def _table_lock(self):
        self.control_folder.mkdir(parents=True, exist_ok=True)
        with open(self.control_folder / ".lock", "a") as guard:
            fcntl.flock(guard.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(guard.fileno(), fcntl.LOCK_UN)

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            table = loads(bytes_to_str(file.read_bytes()))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        return [filesystem.exchange_queue_t(*row) for row in table]

    def _change_table(self, exchange, change) -> None:
        file = self._exchange_file(exchange)
        try:
            with self._table_lock():
                queues = self.get_table(exchange)
                changed = change(list(queues))
                if changed != queues:
                    write_atomically(file, str_to_bytes(dumps(changed)))
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda queues: queues if row in queues else [row, *queues])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        if self._exchange_file(exchange).exists():
            self._change_table(exchange, lambda queues: [q for q in queues if q != row])


class Transport(filesystem.Transport):
    Channel = Channel
