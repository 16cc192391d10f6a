"""A model's reply as the answer matcher reads it: markup removed, the part that holds the answer, declines,
and the words around a figure (sentence ends, conclusion cues, stated directions).

Real replies carry more than the answer: HTML entities (``company&#39;s``), chat-template tokens that spill
over (``<|im_start|>assistant``, ``<|im_end|>``, ``<|eot_id|>``, ``</s>``, ``<end_of_turn>``), reasoning in
``<think>...</think>`` (or only its closing tag, when the template opened the block), Markdown emphasis and
LaTeX (``\\boxed{12.5\\%}``). :func:`clean_reply` removes all of it before matching; what a trace stores as
the final answer stays the raw text. Nothing here parses numbers: that is ``evalkit.contracts.answers``.
"""

from __future__ import annotations

import html
import re
from typing import Literal

Direction = Literal["up", "down", "either"]

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_THINK_CLOSE = re.compile(r"^.*</(?:think|thinking|reasoning)\s*>", re.IGNORECASE | re.DOTALL)
_THINK_OPEN = re.compile(r"</?(?:think|thinking|reasoning)\s*>", re.IGNORECASE)
_TURN_END = re.compile(r"<\|(?:im_end|eot_id|end|endoftext|eom_id)\|>|</s>|<end_of_turn>", re.IGNORECASE)
_TURN_START = re.compile(
    r"<\|(?:im_start|start_header_id)\|>\s*(?:assistant|user|system|model|tool)?\s*(?:<\|end_header_id\|>)?"
    r"|<start_of_turn>\s*(?:model|user)?|<\|(?:assistant|user|system|begin_of_text)\|>|<s>|\[/?INST\]",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"</?(?:b|strong|i|em|p|br|span|div|code|pre|sup|sub|u)\b[^>]*>", re.IGNORECASE)
_LATEX_MATH = re.compile(r"\$([^$\n]*\\[A-Za-z%$][^$\n]*)\$")
_LATEX_WRAP = re.compile(r"\\(?:text|textbf|mathrm|mathbf|operatorname)\{([^{}]*)\}")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}")
_LATEX_SYMBOLS = {r"\%": "%", r"\$": "$", r"\times": "×", r"\approx": "≈", r"\cdot": "·", r"\,": "", r"\ ": " "}
_LATEX_DELIMS = re.compile(r"\\[()\[\]]|\$\$")
_EMPHASIS = re.compile(r"\*\*|__|`+|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|^#{1,6}\s+", re.MULTILINE)
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_MARKER = re.compile(r"\bfinal answer\b\s*(?:is\b)?\s*[:：\-–—]?", re.IGNORECASE)


def clean_reply(text: str) -> str:
    """``text`` without reasoning blocks, chat-template tokens, HTML entities and tags, Markdown emphasis and
    LaTeX markup (``\\boxed{}`` is kept for :func:`answer_part`). Text after an end-of-turn token is another
    turn's spill-over and is dropped when something came before it."""
    text = html.unescape(html.unescape(text)).replace("\xa0", " ").replace("\u202f", " ")
    text = text.replace("\u2019", "'").replace("\u02bc", "'")  # typographic apostrophes: can’t, don’t
    text = _THINK_BLOCK.sub(" ", text)
    text = _THINK_CLOSE.sub(" ", text)  # the reply began inside a block the chat template opened
    text = _THINK_OPEN.sub(" ", text)  # an unclosed block: its text is all the reply has
    end = _TURN_END.search(text)
    while end is not None and not _TURN_START.sub("", text[: end.start()]).strip():
        text = text[end.end() :]  # a turn token before any text: skip it
        end = _TURN_END.search(text)
    if end is not None:
        text = text[: end.start()]
    text = _TURN_START.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _LATEX_MATH.sub(r"\1", text)
    text = _LATEX_WRAP.sub(r"\1", text)
    text = _LATEX_FRAC.sub(r"(\1)/(\2)", text)
    for symbol, plain in _LATEX_SYMBOLS.items():
        text = text.replace(symbol, plain)
    text = _LATEX_DELIMS.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines()).strip()


def answer_part(text: str) -> tuple[str, str | None]:
    """The part of a cleaned reply that holds the answer and how it was found: the text after the last
    "final answer" marker (``"marker"``), else the content of the last ``\\boxed{}`` (``"boxed"``), else the
    whole text (None: the matcher decides)."""
    markers = list(_MARKER.finditer(text))
    if markers:
        return _BOXED.sub(r"\1", text[markers[-1].end() :]).strip(), "marker"
    boxes = list(_BOXED.finditer(text))
    if boxes:
        return boxes[-1].group(1).strip(), "boxed"
    return text, None


# -------------------------------------------------------------------------------------------- declines

_DECLINE = re.compile(
    r"\b(?:cannot|can ?not|can't|unable|could not|couldn't|not (?:able|available|possible|found|determin\w*)|"
    r"no (?:data|information|records?)|not enough (?:data|information)|insufficient|don't know|do not know|"
    r"(?:don't|do not|doesn't|does not) (?:have|hold|contain) (?:access|the|that|this|enough|any)|"
    r"unknown to me|(?:is|are|remains?) unknown|(?:data|figures?|values?|rows?) (?:is |are )?missing)\b"
    r"|(?<![\w/])n/a(?![\w/])",
    re.IGNORECASE,
)
_BARE_DECLINE = re.compile(
    r"(?:answer\s*[:\-]\s*)?(?:unknown|none|n/?a|not determinable|undeterminable|undetermined|indeterminate)",
    re.IGNORECASE,
)


def declines(part: str) -> bool:
    """Whether the answer part of a cleaned reply declines: it is a bare "unknown" / "N/A" / "not
    determinable", or its first or last sentence says it cannot answer ("I cannot determine", "insufficient
    data", "not available in the data", ...). "Unknown Segment" is an answer, not a decline."""
    if _BARE_DECLINE.fullmatch(part.strip(" \t\n.!*\"'")):
        return True
    spans = sentence_spans(part)
    ends = [spans[0], spans[-1]] if spans else []
    return any(_DECLINE.search(part[a:b]) for a, b in ends)


def is_decline(text: str) -> bool:
    """Whether a raw reply (or a final answer, or a gold text such as "not determinable") declines."""
    return declines(answer_part(clean_reply(text))[0])


# ------------------------------------------------------------------------------------------ sentences

_BOUNDARY = re.compile(r"[.!?;]+(?=\s|$)|\n+")
_ABBREVIATION = re.compile(r"\b(?:i\.e|e\.g|vs|approx|inc|corp|ltd|co|no|nos|fig|est|etc|mr|ms|dr|st|u\.s)$", re.I)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence: split after ``.``, ``!``, ``?`` or ``;`` before white space (not after
    "i.e.", "vs." and the like, nor inside ``12.5``) and at line breaks."""
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.group(0)[0] == "." and _ABBREVIATION.search(text[start : m.start()]):
            continue
        if text[start : m.start()].strip():
            spans.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


# ------------------------------------------------------------------------------------- conclusion cues

_STRONG_CUE = re.compile(
    r"\b(?:so|therefore|thus|hence|consequently|overall|in total|in summary|in conclusion|answer(?:\s+is)?)\b"
    r"|\bi\.e\.|=|≈|≃|\bequals?\b",
    re.IGNORECASE,
)
_WEAK_CUE = re.compile(
    r"\b(?:is|was|are|were|be|been|becomes?|became|stands? at|stood at|comes? to|came to|amounts? to|amounted to|"
    r"totals?|totall?ed|reached|reaches|gives?|gave|yields?|of|at|approximately|approx|about|around|roughly|"
    r"nearly|almost)\b|:|~",
    re.IGNORECASE,
)


def cue_ends(text: str) -> list[tuple[int, bool]]:
    """``(end, strong)`` of each word that introduces a conclusion: strong ("so", "therefore", "thus",
    "hence", "i.e.", "answer is", ``=``, ``≈``) or weak ("is", "was", "of", "at", "about", ``:``, ...)."""
    strong = [(m.end(), True) for m in _STRONG_CUE.finditer(text)]
    weak = [(m.end(), False) for m in _WEAK_CUE.finditer(text)]
    return sorted(strong + weak)


_REFERENCE = re.compile(
    r"\b(?:from|than|versus|vs\.?|compared (?:with|to)|against|relative to|based on|over|prior|previous)"
    r"(?:\s+\S+){0,2}\s*$",
    re.IGNORECASE,
)


_PARENTHESIS = re.compile(r"\(([^()]*)\)")
_LONE_FIGURE = re.compile(r"^\s*[-+$€£¥]?\s*[\d.,]+\s*(?:%|[a-zA-Z]{0,8})\s*$")


def aside_spans(text: str) -> list[tuple[int, int]]:
    """The spans of parenthetical asides ("was 1.54 (current assets of $947 million over ...)"): the working
    or the inputs a reply shows beside its figure, not the figure it states. A parenthesis that holds one
    figure and nothing else ("(32)", an accounting negative; "(1.54)") is no aside."""
    return [(m.start(), m.end()) for m in _PARENTHESIS.finditer(text) if not _LONE_FIGURE.match(m.group(1))]


def is_reference(text: str, start: int) -> bool:
    """Whether the figure at ``start`` is a reference value ("up from $1,200M", "than 1,200", "versus 5%",
    "based on revenue of 1,350"), not the figure a conclusion states."""
    return bool(_REFERENCE.search(text[max(0, start - 48) : start]))


_LABEL_WORD = re.compile(r"\b(?:step|item|option|part|no\.|number|#)\s*$", re.IGNORECASE)
_LIST_ITEM = re.compile(r"[ \t]*\d{1,2}[.)][ \t]+[A-Za-z]")


def is_label(text: str, start: int) -> bool:
    """Whether the number at ``start`` numbers a step or a list item ("Step 1:", "1. Query ...")."""
    if _LABEL_WORD.search(text[max(0, start - 12) : start]):
        return True
    line = text.rfind("\n", 0, start) + 1
    return not text[line:start].strip() and bool(_LIST_ITEM.match(text, line))


# ------------------------------------------------------------------------------------------ directions

_DOWN = (
    r"decreas\w*|declin\w*|fell|fall(?:s|en|ing)?|drop(?:s|ped|ping)?|down|lower|less|shr[ai]nk\w*|shrunk|"
    r"reduc\w*|contract(?:ed|ion)|dip(?:s|ped)?|slid|slipped|negative|cut"
)
_UP = (
    r"increas\w*|rose|ris(?:e|es|en|ing)|gr[eo]w(?:s|n|ing)?|gain(?:s|ed)?|up|higher|more|expan\w*|improv\w*|"
    r"jump(?:s|ed)?|climb(?:s|ed)?|added"
)
_EITHER = r"loss(?:es)?|deficit|shortfall|net cash"
_DIRECTION_WORD = re.compile(rf"\b(?:(?P<down>{_DOWN})|(?P<up>{_UP})|(?P<either>{_EITHER}))\b", re.IGNORECASE)
_AFTER = re.compile(rf"\s*\)?\s*\(?\s*(?:an?\s+)?(?:(?P<down>{_DOWN})|(?P<up>{_UP}))\b", re.IGNORECASE)
_LEVEL_WORDS = {"from", "to", "at", "than", "versus", "vs", "vs."}
_CLAUSE_START = re.compile(r"[,;:.!?()\n](?!\d)")


def stated_direction(text: str, start: int, end: int, after_previous: int = 0) -> Direction | None:
    """The direction a phrase states for the figure at ``start:end``: ``down`` ("a decrease of 12%", "fell
    12%", "12% lower", "negative 5"), ``up`` ("an increase of", "grew", "12% higher"), ``either`` for a sign
    that names the quantity rather than a change ("a net loss of 8,081": the loss or its negative), or None
    (a bare magnitude, or a level: "from 1,350 to 1,200"). Only the words of the figure's own clause count,
    after ``after_previous`` (the end of the figure before it)."""
    window = text[after_previous:start]
    clause = list(_CLAUSE_START.finditer(window))
    window = window[clause[-1].end() :] if clause else window
    words = window.replace("$", " ").split()[-5:]
    if words and words[-1].lower() in _LEVEL_WORDS:
        return None
    found = list(_DIRECTION_WORD.finditer(" ".join(words)))
    if found:
        last = found[-1]
        return "down" if last.group("down") else "up" if last.group("up") else "either"
    m = _AFTER.match(text, end)
    if m:
        return "down" if m.group("down") else "up"
    return None


_ASKS_DECREASE = re.compile(r"\b(?:decreas\w*|declin\w*|fall|fell|drop\w*|reduc\w*|shr[ai]nk\w*)\b", re.IGNORECASE)


def asks_for_decrease(question: str | None) -> bool:
    """Whether a question asks how much something went down ("By how much did expenses decrease?"): a positive
    gold is then the size of the decrease."""
    return bool(question and _ASKS_DECREASE.search(question))
