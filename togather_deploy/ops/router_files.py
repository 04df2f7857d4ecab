"""The router's files on the host, and the crash protocol of a switch.

Every write is ``togather_deploy.hostfs.atomic`` (temp file, fsync, rename, fsync the
directory; a flip stages the first two before its clock starts: ``staged_active_color``),
so nginx sees, per request, the whole old file or the whole new one, and ``active_color``
always holds exactly ``blue`` (mode 0755) or ``green`` (0644), word and mode bit from one
rename (``render.active_file``: nginx tests the bit), even when a writer is SIGKILLed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from togather_deploy.config.model import COLORS
from togather_deploy.errors import DeployError
from togather_deploy.hostfs.atomic import Staged, staged_write

# re-exported: the providers write the router files through this module
from togather_deploy.hostfs.atomic import atomic_write as atomic_write
from togather_deploy.hostfs.atomic import sweep_temp_files as sweep_temp_files
from togather_deploy.hostfs.paths import make_dirs
from togather_deploy.render.active_file import ACTIVE_FILE, MODES, color_of_mode

FILE_MODE = 0o644
DIR_MODE = 0o755


def ensure_dir(path: str) -> None:
    """Create the router directory (0755: nginx's workers must read it)."""
    make_dirs(path, DIR_MODE)
    os.chmod(path, DIR_MODE)


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def write_active_color(directory: str, color: str) -> None:
    """Point the router at ``color`` (the only write a traffic flip makes)."""
    with staged_active_color(directory, color) as flip:
        flip.commit()


@contextlib.contextmanager
def staged_active_color(directory: str, color: str) -> Iterator[Staged]:
    """``color`` written and fsynced beside ``active_color``; ``commit()`` flips the router.

    The switch stages before its clock starts, so a flip is the rename alone
    (``hostfs.atomic.staged_write``: the data fsync measured up to 380 ms under load).
    """
    if color not in COLORS:
        raise DeployError(f"active colour must be blue or green, got {color!r}")
    sweep_temp_files(directory, ACTIVE_FILE)
    with staged_write(os.path.join(directory, ACTIVE_FILE), color + "\n", mode=MODES[color]) as staged:
        yield staged


def read_active_color(directory: str) -> str | None:
    """The colour the file's word names; ``None`` when the file is absent. nginx routes by its
    mode bit (``routed_color``), which every write here sets with the word.

    A file that exists but holds anything else is an error, not a guess.
    """
    path = os.path.join(directory, ACTIVE_FILE)
    text = read_text(path)
    if text is None:
        return None
    color = text.strip()
    if color not in COLORS:
        raise DeployError(f"{path} holds {color[:40]!r}, not blue or green", file=path,
                          fix=f"write the colour that should serve, word and mode bit (nginx routes by "
                              f"the bit): echo blue > {path} && chmod 755 {path}  (green: chmod 644)")
    return color


def routed_color(directory: str) -> str | None:
    """The colour nginx routes to: what the file's mode bit says (``None``: no file)."""
    try:
        return color_of_mode(os.stat(os.path.join(directory, ACTIVE_FILE)).st_mode)
    except FileNotFoundError:
        return None


def settled_color(directory: str) -> str:
    """The colour the file's word and mode bit both name: what a switch wrote and nginx routes.
    "" when the file is absent, garbled, or its word and mode disagree (a hand edit)."""
    try:
        word = read_active_color(directory)
    except DeployError:
        return ""
    return word if word is not None and routed_color(directory) == word else ""


def disagreement(directory: str, word: str) -> str | None:
    """Why nginx routes elsewhere than the file's ``word`` says, with the fix; ``None`` if it
    does not. Only a hand edit (or a file from before the mode bit) can make them differ."""
    routed = routed_color(directory)
    if routed in (None, word):
        return None
    path = os.path.join(directory, ACTIVE_FILE)
    return f"{path} says {word} but its mode routes {routed} (fix: chmod {MODES[word]:o} {path})"


def agree_mode_with_word(directory: str) -> bool:
    """Give ``active_color`` the mode its word calls for; ``True`` when it had to be rewritten.

    A file written before 2026-12-03 holds the right word with mode 0644 whatever the
    colour. ``RouterConfig`` runs this before it installs an nginx.conf that tests the mode,
    so the word an older router read is the colour the new one routes to. The rewrite is the
    same atomic write as a flip: the same word, the mode that matches it.
    """
    color = read_active_color(directory)
    if color is None or routed_color(directory) == color:
        return False
    write_active_color(directory, color)
    return True
