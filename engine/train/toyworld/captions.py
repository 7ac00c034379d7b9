"""Captions: paraphrased templates over the names of a clip, the word list they can produce, and a tokenizer.

Captions are lower-case. The vocabulary is every word any template can produce, sorted; a word's id is its
index in it, so the vocabulary is part of any model trained on these captions.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from engine.train.toyworld.spec import ClipSpec, ObjectSpec

COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red",),
    "orange": ("orange",),
    "yellow": ("yellow",),
    "green": ("green",),
    "cyan": ("cyan",),
    "blue": ("blue",),
    "purple": ("purple", "violet"),
    "white": ("white",),
}
BACKGROUND_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("black",),
    "navy": ("navy",),
    "grey": ("grey", "gray"),
    "brown": ("brown",),
    "maroon": ("maroon",),
    "teal": ("teal",),
}
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "ball", "disc"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle",),
    "star": ("star",),
}
SIZE_WORDS: dict[str, tuple[str, ...]] = {"small": ("small", "little", "tiny"), "big": ("big", "large")}
DETERMINERS = ("a", "the")

MOVE_VERBS = ("moves", "slides", "goes", "drifts", "travels", "glides")
MOVE_GERUNDS = ("moving", "sliding", "going", "drifting", "travelling", "gliding")
DIRECTION_WORDS: dict[str, tuple[str, ...]] = {
    "left": ("left", "to the left", "leftward", "towards the left"),
    "right": ("right", "to the right", "rightward", "towards the right"),
    "up": ("up", "upward", "upwards", "towards the top"),
    "down": ("down", "downward", "downwards", "towards the bottom"),
    "up-left": ("up and to the left", "up and left", "diagonally up and left", "towards the top left"),
    "up-right": ("up and to the right", "up and right", "diagonally up and right", "towards the top right"),
    "down-left": ("down and to the left", "down and left", "diagonally down and left", "towards the bottom left"),
    "down-right": ("down and to the right", "down and right", "diagonally down and right", "towards the bottom right"),
}
# The motions that are not a direction: (finite forms, -ing forms)
MOTION_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "growing": (("grows", "gets bigger", "expands", "grows larger"), ("growing", "getting bigger", "expanding")),
    "shrinking": (("shrinks", "gets smaller", "contracts"), ("shrinking", "getting smaller", "contracting")),
    "bouncing": (
        ("bounces around", "bounces off the edges", "bounces off the walls"),
        ("bouncing around", "bouncing off the edges", "bouncing off the walls"),
    ),
    "still": (
        ("stays still", "sits still", "does not move", "stays in place", "is still"),
        ("staying still", "sitting still", "not moving", "holding still"),
    ),
}

BACKGROUND_PHRASES = {
    "plain": (
        "on a {c} background",
        "on {c}",
        "against a {c} backdrop",
        "over a plain {c} background",
        "in front of a {c} background",
    ),
    "gradient": (
        "on a {c} gradient",
        "over a {c} gradient",
        "on a {d} {c} gradient",
        "against a {c} gradient backdrop",
    ),
}
BARE_BACKGROUND_PHRASES = {
    "plain": ("{c} background", "{c} backdrop", "plain {c} background"),
    "gradient": ("{c} gradient", "{d} {c} gradient", "{c} gradient backdrop"),
}
GRADIENT_DIRECTIONS = {"vertical gradient": "vertical", "horizontal gradient": "horizontal"}

# {o}: an object with its determiner, {b}: without, {i}: with "a"/"an"; {v}: finite motion, {g}: -ing motion;
# {p}: background with its preposition, {q}: without.
TEMPLATES = {
    (1, False): ("{o} {v} {p}", "{b} {g}, {q}", "{p}, {o} {v}", "{o} {g} {p}", "there is {i} {g} {p}"),
    (2, False): (
        "{o} {v} and {o2} {v2} {p}",
        "{o} {v} while {o2} {v2} {p}",
        "{p}, {o} {v} and {o2} {v2}",
        "{b} {g}, {b2} {g2}, {q}",
        "{o} {g} and {o2} {g2} {p}",
    ),
    (1, True): ("{o} {p}", "{b}, {q}", "there is {i} {p}"),
    (2, True): ("{o} and {o2} {p}", "{b} and {b2}, {q}", "there is {i} and {i2} {p}"),
}
ARTICLE_WORDS = ("a", "an")
SIZE_WORD_CHANCE = 0.5


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[rng.integers(len(options))]


def _object_words(obj: ObjectSpec, rng: np.random.Generator) -> tuple[str, str, str]:
    """(with a determiner, without, with "a"/"an") for one object, sharing the same words."""
    words = [_pick(rng, COLOUR_WORDS[obj.colour]), _pick(rng, SHAPE_WORDS[obj.shape])]
    if rng.random() < SIZE_WORD_CHANCE:
        words.insert(0, _pick(rng, SIZE_WORDS[obj.size]))
    bare = " ".join(words)
    indefinite = f"{'an' if bare[0] in 'aeiou' else 'a'} {bare}"
    return (indefinite if _pick(rng, DETERMINERS) == "a" else f"the {bare}"), bare, indefinite


def _motion_words(motion: str, rng: np.random.Generator) -> tuple[str, str]:
    """(finite, -ing) phrases for one motion."""
    if motion in DIRECTION_WORDS:
        direction = _pick(rng, DIRECTION_WORDS[motion])
        return f"{_pick(rng, MOVE_VERBS)} {direction}", f"{_pick(rng, MOVE_GERUNDS)} {direction}"
    finite, gerund = MOTION_WORDS[motion]
    return _pick(rng, finite), _pick(rng, gerund)


def caption_for(spec: ClipSpec, rng: np.random.Generator, static: bool = False) -> str:
    """A paraphrased caption of `spec`; `static` describes the scene alone (for a still image), not its motion."""
    spec.check()
    slots = {}
    for i, obj in enumerate(spec.objects):
        suffix = "2" if i else ""
        slots["o" + suffix], slots["b" + suffix], slots["i" + suffix] = _object_words(obj, rng)
        slots["v" + suffix], slots["g" + suffix] = _motion_words(obj.motion, rng)
    kind = "plain" if spec.background_kind == "plain" else "gradient"
    words = {"c": _pick(rng, BACKGROUND_WORDS[spec.background]), "d": GRADIENT_DIRECTIONS.get(spec.background_kind)}
    slots["p"] = _pick(rng, BACKGROUND_PHRASES[kind]).format(**words)
    slots["q"] = _pick(rng, BARE_BACKGROUND_PHRASES[kind]).format(**words)
    return _pick(rng, TEMPLATES[len(spec.objects), static]).format(**slots)


def words_of(text: str) -> list[str]:
    """`text` lower-cased, punctuation turned into spaces, split on whitespace."""
    return re.sub(r"[^\w\s]|_", " ", text.lower()).split()


def _phrases() -> list[str]:
    tables = [COLOUR_WORDS, BACKGROUND_WORDS, SHAPE_WORDS, SIZE_WORDS, DIRECTION_WORDS]
    phrases = [phrase for table in tables for options in table.values() for phrase in options]
    phrases += [phrase for forms in MOTION_WORDS.values() for options in forms for phrase in options]
    phrases += [*DETERMINERS, *ARTICLE_WORDS, *MOVE_VERBS, *MOVE_GERUNDS, *GRADIENT_DIRECTIONS.values()]
    templates = [*BACKGROUND_PHRASES.values(), *BARE_BACKGROUND_PHRASES.values(), *TEMPLATES.values()]
    phrases += [re.sub(r"\{\w+\}", " ", template) for options in templates for template in options]
    return phrases


@functools.cache
def vocabulary() -> tuple[str, ...]:
    """Every word a caption can contain, sorted; a word's id is its index."""
    return tuple(sorted({word for phrase in _phrases() for word in words_of(phrase)}))


@functools.cache
def _ids() -> dict[str, int]:
    return {word: i for i, word in enumerate(vocabulary())}


def tokenize(text: str) -> tuple[list[int], list[str]]:
    """(ids of the known words in order, the unknown words in order of first appearance) of `text`."""
    ids, unknown = [], []
    for word in words_of(text):
        if word in _ids():
            ids.append(_ids()[word])
        elif word not in unknown:
            unknown.append(word)
    return ids, unknown
