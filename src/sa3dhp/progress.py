"""Progress bars: the switch that hides them (``SA3DHP_NO_PROGRESS=1``)."""

from __future__ import annotations

import os

NO_PROGRESS_ENV = "SA3DHP_NO_PROGRESS"


def progress_disabled() -> bool:
    """Whether progress bars are switched off (``SA3DHP_NO_PROGRESS=1``)."""
    return os.environ.get(NO_PROGRESS_ENV, "") not in ("", "0")
