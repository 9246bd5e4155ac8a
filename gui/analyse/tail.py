"""Follows the results file of a running analysis: reads and parses new lines on a worker (an "io"
job per chunk) and hands each parsed chunk to the GUI by signal.

One read is in flight at a time; a poke while it runs asks for one more read after it, so the GUI
never receives chunks faster than it appends them. ``finish()`` (the analysis ended) reads to the
end of the file and then says ``sig_caught_up``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from gui.jobs.runner import Job, JobRunner


class ResultsTail(QObject):
    sig_chunk = Signal(object)  # services.analyse.tail.ResultsChunk
    sig_caught_up = Signal()  # after finish(): every line of the file has been delivered

    def __init__(self, runner: JobRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.path: str | None = None
        self.offset = 0
        self.job: Job | None = None
        self._again = False
        self._finishing = False

    def start(self, path: str) -> None:
        """Follow ``path`` from its first result line (forgets any earlier file)."""
        self.reset()
        self.path = path

    def reset(self) -> None:
        if self.job is not None and self.job.is_active:
            self.job.cancel()
        self.job = None
        self.path = None
        self.offset = 0
        self._again = self._finishing = False

    @property
    def reading(self) -> bool:
        return self.job is not None and self.job.is_active

    def poke(self) -> None:
        """New lines may have been written: read them (now, or right after the read in flight)."""
        if self.path is None:
            return
        if self.reading:
            self._again = True
        else:
            self._read()

    def finish(self) -> None:
        """The file is complete: read what is left, then emit ``sig_caught_up``."""
        self._finishing = True
        if self.path is None:
            self._caught_up()
        else:
            self.poke()

    def _read(self) -> None:
        from services.analyse.tail import read_chunk

        path, start = self.path, self.offset
        self._again = False
        job = self.runner.submit("Reading results", lambda progress, cancel: read_chunk(path, start), lane="io",
                                 listed=False, needs_torch=False)
        job.result.connect(lambda chunk, job=job: self._on_chunk(job, chunk))
        job.error.connect(lambda _error, job=job: self._on_failed(job))
        self.job = job

    def _on_chunk(self, job: Job, chunk) -> None:
        if job is not self.job:  # a read for a file that was replaced meanwhile
            return
        self.offset = chunk.end
        if chunk.rows:
            self.sig_chunk.emit(chunk)
        if job is not self.job:  # a receiver reset the tail
            return
        if chunk.more or self._again:
            self._read()
        elif self._finishing:
            self._caught_up()

    def _on_failed(self, job: Job) -> None:
        if job is self.job and self._finishing:  # the runner has shown the error; do not wait forever
            self._caught_up()

    def _caught_up(self) -> None:
        self._finishing = False
        self.sig_caught_up.emit()
