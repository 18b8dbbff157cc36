"""Two ways the CDK writes to stdout, adapted: secrets masked in text without touching the JSON around it, and
a quiet exit when the reader of stdout goes away.

Masking. The CDK masks log messages and stream errors as text before serializing them, which is safe. Two of
its paths mask the serialized line instead (`filter_secrets(json.dumps(...))`): the `--debug` branch of
`AirbyteLogFormatter.format` and `AirbyteTracedException.emit_message`, which the CDK's uncaught-exception hook
calls. There a secret such as `type`, `true` or `1` rewrites the line's keys and values. `TextMaskingLogFormatter`
and `report_uncaught_exception` do what those do, masking only the text (`secrets.mask_line`).

A closed stdout. When the consumer stops reading (a destination that died, `| head`), the next write raises
`BrokenPipeError`; Python then fails again flushing stdout at exit, prints "Exception ignored ... BrokenPipeError"
or "Error in sys.excepthook ... lost sys.stderr" on stderr, and waits for worker threads that may be blocked
on a full queue. `exit_when_stdout_closes` ends the process at once instead, with exit code 1 and nothing on
stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextlib import contextmanager
from types import TracebackType
from typing import Iterator, Optional

import orjson
from airbyte_cdk.exception_handler import assemble_uncaught_exception
from airbyte_cdk.logger import AirbyteLogFormatter, is_platform_debug_log_enabled
from airbyte_cdk.models import AirbyteMessageSerializer

from source_8x8_cdr.secrets import mask, mask_line


class TextMaskingLogFormatter(AirbyteLogFormatter):
    """`AirbyteLogFormatter`, whose `--debug` lines are masked in their values, not as a whole line."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno != logging.DEBUG or is_platform_debug_log_enabled():
            return super().format(record)  # these branches mask the text before serializing it
        extras = self.extract_extra_args_from_record(record)
        data = {key: mask(value) for key, value in extras.items()}
        return json.dumps({"type": "DEBUG", "message": mask(record.getMessage()), "data": data})


def report_uncaught_exception(logger: logging.Logger):  # type: ignore[no-untyped-def]
    """The CDK's `init_uncaught_exception_handler` hook, writing its trace with the text masked."""

    def hook(kind: type[BaseException], error: BaseException, traceback: Optional[TracebackType]) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, traceback)
            return
        logger.fatal(error, exc_info=error)
        message = assemble_uncaught_exception(kind, error).as_airbyte_message()
        print(mask_line(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()))

    return hook


def mask_text_only(logger: logging.Logger) -> None:
    """Installs the masking of this module on the root logger's handlers and as the uncaught-exception hook."""
    for handler in logging.getLogger().handlers:
        if type(handler.formatter) is AirbyteLogFormatter:
            handler.setFormatter(TextMaskingLogFormatter("%(message)s"))  # the format the CDK configures
    sys.excepthook = report_uncaught_exception(logger)


@contextmanager
def exit_when_stdout_closes() -> Iterator[None]:
    """Ends the process at once, with exit code 1 and nothing on stderr, when stdout's reader has gone."""
    try:
        yield
    except BrokenPipeError:
        os._exit(1)  # not sys.exit: it would flush the closed stdout again, and wait for blocked worker threads
