"""Stream frames into a helper process (ffmpeg, or optviz's own GIF writer) through its standard input.

The helper encodes on another core while this process draws. Writing a frame into a pipe blocks until the helper
has read all of it, so the writes happen on a thread of their own (the write releases the GIL, so drawing goes on
meanwhile), with at most `IN_FLIGHT` frames queued.

The helper's messages go to a temporary file, so a full stderr pipe can never stall it, and its last line becomes
the OutputError when it fails. On any exception in the caller, Ctrl-C included, the helper is killed and waited for
before the exception goes on, so it never writes to the file after the caller has given up on it; Ctrl-C and SIGTERM
are held back while the helper starts, so none can arrive between its start and the code that would kill it.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO

from optviz.errors import OutputError

IN_FLIGHT = 2  # frames handed to the writing thread and not yet in the pipe

Send = Callable[[bytes | memoryview], None]


@contextlib.contextmanager
def helper_process(command: list[str], name: str, env: Mapping[str, str] | None = None) -> Iterator[Send]:
    """Start `command` and yield `send(data)`, which queues bytes for its stdin; on leaving, wait for it to succeed.

    The data passed to `send` must not change afterwards (frames are fresh arrays).
    """
    with tempfile.TemporaryFile() as log, ThreadPoolExecutor(1, thread_name_prefix="optviz-pipe") as writer:
        started: list[subprocess.Popen] = []
        try:
            with _signals_deferred():  # a Ctrl-C or SIGTERM now would leave a helper nobody kills
                started.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                                stderr=log, env=env))
        except OSError as error:
            raise OutputError(f"cannot run {name} '{command[0]}': {error.strerror}") from error
        except BaseException:  # the deferred signal, delivered as the mask lifts
            for process in started:
                process.kill()
                process.wait()
            raise
        (process,) = started
        queued: deque[Future] = deque()

        def settle(write: Future) -> None:
            try:
                write.result()
            except BrokenPipeError:
                process.wait()
                raise OutputError(f"{name} stopped early: {_last_line(log)}") from None

        def send(data: bytes | memoryview) -> None:
            queued.append(writer.submit(process.stdin.write, data))
            if len(queued) > IN_FLIGHT:
                settle(queued.popleft())

        try:
            yield send
            while queued:
                settle(queued.popleft())
            with contextlib.suppress(BrokenPipeError):  # a helper that died is reported by its exit status
                process.stdin.close()
        except BaseException:
            process.kill()  # also ends a write blocked on the pipe
            writer.shutdown(cancel_futures=True)
            process.wait()
            raise
        if process.wait() != 0:
            raise OutputError(f"{name} failed: {_last_line(log)}")


def _last_line(log: IO[bytes]) -> str:
    """The helper's last message, or a note that it said nothing."""
    log.seek(0)
    lines = log.read().decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no message"


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM noted, not acted on, while inside; on leaving, each one that arrived goes to the handler
    it would have gone to (which raises KeyboardInterrupt, or optviz's Terminated). Python runs signal handlers in
    the main thread only, so a signal caught by any thread waits; elsewhere (a render on another thread) nothing
    can be deferred, and nothing is."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda signum, frame: arrived.append(signum)) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        for signum in arrived:
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler in (signal.SIG_DFL, None):
                signal.raise_signal(signum)  # its default action, as if it had come now
