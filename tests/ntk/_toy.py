"""Synthetic text tasks for the fine-tuning tests: word counts decide the label."""

import numpy as np

from initscape.ntk._tasks import Split

POSITIVE = ("good", "happy", "great", "fine", "nice")
NEGATIVE = ("bad", "sad", "awful", "poor", "ugly")
SPORT = ("goal", "match", "team", "score", "coach")
POLITICS = ("vote", "party", "law", "minister", "election")


def word_task(n, rng, first=POSITIVE, second=NEGATIVE, length=5):
    """Texts of ``length`` words from two lists; +1 when most come from ``first``."""
    words = np.array(first + second)
    texts, labels = [], []
    for _ in range(n):
        chosen = rng.choice(words, length)
        score = sum(w in first for w in chosen)
        texts.append(" ".join(chosen))
        labels.append(1.0 if 2 * score > length else -1.0)
    labels = np.array(labels)
    return Split(texts, labels, [str(v) for v in labels])
