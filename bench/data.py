"""Generate catalogue data from Debian's word list.

Words are drawn with Zipf-like weights (the word of rank r has weight
1/r), so that, as in real text, a few words are very common and most are
rare. A fixed seed makes every run generate the same data.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from .harness import NotMeasured

#: The word list of Debian's ``wamerican`` package.
WORDS_FILE = Path("/usr/share/dict/words")

#: The moment generated rows are dated back from, fixed so that runs agree.
EPOCH = datetime(2026, 1, 1, 12, 0, 0)


@cache
def load_words() -> tuple[str, ...]:
    """Return the plain lower-case words of the word list, 3 to 12 letters."""
    try:
        text = WORDS_FILE.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotMeasured(
            f"the word list {WORDS_FILE} is missing; install Debian's wamerican"
        ) from exc

    words = [
        word
        for word in text.split()
        if 3 <= len(word) <= 12 and word.isascii() and word.isalpha() and word.islower()
    ]
    if len(words) < 1000:
        raise NotMeasured(f"the word list {WORDS_FILE} has only {len(words)} words")
    return tuple(words)


class WordSource:
    """Random words and sentences with Zipf-like word frequencies."""

    def __init__(self, seed: int = 1) -> None:
        self.random = random.Random(seed)
        words = list(load_words())
        # Shuffle with a fixed seed, so that the common words are spread over
        # the alphabet instead of all starting with "a".
        random.Random(0).shuffle(words)
        self.words = words
        self.cumulative = list(
            itertools.accumulate(1 / rank for rank in range(1, len(words) + 1))
        )

    def word(self) -> str:
        return self.random.choices(self.words, cum_weights=self.cumulative)[0]

    def sentence(self, low: int, high: int) -> str:
        count = self.random.randint(low, high)
        words = self.random.choices(self.words, cum_weights=self.cumulative, k=count)
        return " ".join(words).capitalize()

    def text_of_length(self, length: int) -> str:
        """Return words joined by spaces, exactly *length* characters long."""
        parts: list[str] = []
        size = -1
        while size < length:
            word = self.word()
            parts.append(word)
            size += len(word) + 1
        return " ".join(parts)[:length].rstrip().ljust(length, "x")

    def common_words(self, count: int) -> set[str]:
        """Return the *count* most frequent words of the distribution."""
        return set(self.words[:count])

    def rare_word(self) -> str:
        """Return a word from the rarer half of the list."""
        return self.random.choice(self.words[len(self.words) // 2 :])


def solution_rows(
    count: int, setters: int, solution_types: int, seed: int = 1
) -> Iterator[tuple]:
    """Yield *count* solutions as ``(clue, solution, hint, setter id,
    solution type id, created, updated)`` tuples, times as ISO 8601 text.

    Setter and solution type ids run from 1 to *setters* and
    *solution_types*.
    """
    source = WordSource(seed)
    for index in range(count):
        created = (EPOCH - timedelta(minutes=count - index)).isoformat(" ")
        yield (
            source.sentence(4, 9),
            source.word().upper(),
            source.sentence(3, 12),
            index % setters + 1,
            index % solution_types + 1,
            created,
            created,
        )


def setter_type_names(count: int) -> list[str]:
    return [f"Setter type {number}" for number in range(1, count + 1)]


def setter_names(count: int) -> list[str]:
    return [f"Setter {number}" for number in range(1, count + 1)]


def solution_type_names(count: int) -> list[str]:
    return [f"Solution type {number}" for number in range(1, count + 1)]
