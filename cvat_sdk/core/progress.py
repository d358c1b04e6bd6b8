"""Progress reporting for long work: a small protocol, a silent default and a tqdm adapter."""

from __future__ import annotations

from typing import Any, Protocol


class ProgressReporter(Protocol):
    """What the helpers call while they work; amounts are bytes for uploads and downloads."""

    def start(self, total: int | None) -> None: ...

    def advance(self, n: int) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    """Reports nothing: the default."""

    def start(self, total: int | None) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


class TqdmProgress:
    """Shows a tqdm bar (``pip install cvat-sdk[tqdm]``); extra arguments go to ``tqdm``."""

    def __init__(self, **tqdm_args: Any) -> None:
        try:
            from tqdm import tqdm
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("TqdmProgress needs tqdm: pip install 'cvat-sdk[tqdm]'") from error
        self._tqdm = tqdm
        self._args = {"unit": "B", "unit_scale": True, "unit_divisor": 1024, **tqdm_args}
        self._bar: Any = None

    def start(self, total: int | None) -> None:
        self._bar = self._tqdm(total=total, **self._args)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
