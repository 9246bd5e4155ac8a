"""Extractive QA decoding on hand-built logits with known answers (no model, no torch).

The window in most tests reads ``[CLS] who did it ? [SEP] alpha beta gamma delta [SEP] [PAD]``:
tokens 0–5 are CLS, question and separator, 6–9 the context, 10–11 special/padding.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from services.core.errors import InputError
from services.run.question_answering import Window, decode, window_spans

CONTEXT = "alpha beta gamma delta"
WORDS = {"alpha": (0, 5), "beta": (6, 10), "gamma": (11, 16), "delta": (17, 22)}
N = 12
CTX = [6, 7, 8, 9]  # alpha beta gamma delta
CONTEXT_MASK = [i in CTX for i in range(N)]
OFFSETS = [(0, 0)] * 6 + [WORDS["alpha"], WORDS["beta"], WORDS["gamma"], WORDS["delta"]] + [(0, 0)] * 2


def window(start: dict[int, float], end: dict[int, float], **extra) -> Window:
    s, e = np.zeros(N), np.zeros(N)
    for i, v in start.items():
        s[i] = v
    for i, v in end.items():
        e[i] = v
    return Window(s, e, CONTEXT_MASK, OFFSETS, **extra)


def brute_force(w: Window, max_len: int) -> list[tuple[float, int, int]]:
    """Every valid span by p_start × p_end, the slow obvious way (softmax over context + CLS)."""
    allowed = [i for i in range(len(w.start_logits)) if w.context[i] or i == w.null_index]
    ps = np.exp(w.start_logits[allowed]) / np.exp(w.start_logits[allowed]).sum()
    pe = np.exp(w.end_logits[allowed]) / np.exp(w.end_logits[allowed]).sum()
    p_start, p_end = dict(zip(allowed, ps)), dict(zip(allowed, pe))
    spans = [(p_start[a] * p_end[b], a, b) for a, b in itertools.product(np.flatnonzero(w.context), repeat=2)
             if a <= b and b - a < max_len]
    return sorted(spans, key=lambda t: (-t[0], t[1], t[2] - t[1]))


def assert_substrings(result, context=CONTEXT):
    for answer in result["answers"]:
        assert answer["answer"] == context[answer["start"]:answer["end"]]


def test_best_span():
    result = decode([window({7: 8.0}, {8: 8.0})], CONTEXT)
    assert (result["answer"], result["start"], result["end"]) == ("beta gamma", 6, 16)
    best = brute_force(window({7: 8.0}, {8: 8.0}), 15)[0]
    assert result["score"] == pytest.approx(best[0])
    assert_substrings(result)


def test_random_logits_match_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(50):
        w = Window(rng.normal(0, 3, N), rng.normal(0, 3, N), CONTEXT_MASK, OFFSETS)
        max_len = int(rng.integers(1, 5))
        expected = brute_force(w, max_len)[:3]
        got = window_spans(w, max_len, 3).spans
        assert [(a, b) for _s, a, b in got] == [(a, b) for _s, a, b in expected]
        assert [s for s, _a, _b in got] == pytest.approx([s for s, _a, _b in expected])


def test_ties_go_to_the_earlier_then_shorter_span():
    # alpha and gamma are equally likely starts and ends: (alpha, alpha) and (gamma, gamma) tie
    w = window({6: 5.0, 8: 5.0}, {6: 5.0, 8: 5.0})
    result = decode([w], CONTEXT, top_k=3, max_answer_len=1)
    assert [a["answer"] for a in result["answers"][:2]] == ["alpha", "gamma"]
    assert [(a, b) for _s, a, b in window_spans(w, 1, 2).spans] == [(6, 6), (8, 8)]  # the window's own order
    assert result["answers"][0]["score"] == pytest.approx(result["answers"][1]["score"])
    # same start, equal score: the shorter span first
    w = window({6: 5.0}, {6: 5.0, 7: 5.0})
    assert [a["answer"] for a in decode([w], CONTEXT, top_k=2)["answers"]] == ["alpha", "alpha beta"]


def test_end_before_start_is_never_chosen():
    # the most likely start (gamma) lies after the most likely end (alpha)
    w = window({8: 10.0}, {6: 10.0, 9: 5.0})
    result = decode([w], CONTEXT, top_k=10)
    assert result["answer"] == "gamma delta"
    assert all(a["start"] < a["end"] for a in result["answers"])
    for _s, a, b in window_spans(w, 15, 100).spans:
        assert a <= b


def test_spans_in_the_question_or_on_special_tokens_are_never_chosen():
    # the question tokens (1-4), [SEP] (5, 10) and padding (11) carry the highest logits
    w = window({1: 30.0, 5: 30.0, 10: 30.0, 11: 30.0, 7: 2.0}, {3: 30.0, 5: 30.0, 10: 30.0, 11: 30.0, 8: 2.0})
    result = decode([w], CONTEXT, top_k=10)
    assert result["answer"] == "beta gamma"
    for _s, a, b in window_spans(w, 15, 100).spans:
        assert a in CTX and b in CTX
    # and the CLS token is an answer only as "no answer"
    w = window({0: 30.0, 7: 1.0}, {0: 30.0, 7: 1.0})
    assert decode([w], CONTEXT)["answer"] == "beta"


def test_answers_over_the_length_limit_are_never_chosen():
    w = window({6: 10.0}, {9: 10.0})  # the best span is all four words
    assert decode([w], CONTEXT, max_answer_len=4)["answer"] == CONTEXT
    limited = decode([w], CONTEXT, max_answer_len=2, top_k=10)
    assert CONTEXT not in [a["answer"] for a in limited["answers"]]
    for answer in limited["answers"]:
        assert len(answer["answer"].split()) <= 2
    _score, a, b = brute_force(w, 2)[0]
    assert (limited["start"], limited["end"]) == (OFFSETS[a][0], OFFSETS[b][1])
    with pytest.raises(InputError, match="at least 1"):
        decode([w], CONTEXT, max_answer_len=0)


def test_top_k_is_ranked_and_distinct():
    w = window({7: 6.0, 6: 3.0}, {8: 6.0, 7: 3.0})
    result = decode([w], CONTEXT, top_k=4)
    scores = [a["score"] for a in result["answers"]]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)
    assert len({(a["start"], a["end"]) for a in result["answers"]}) == 4
    assert result["answers"][0] == {k: result[k] for k in ("answer", "score", "start", "end")}
    with pytest.raises(InputError, match="top_k"):
        decode([w], CONTEXT, top_k=0)


# -- windows -------------------------------------------------------------------------------------------
LONG = "alpha beta gamma delta epsilon"
LONG_WORDS = {"alpha": (0, 5), "beta": (6, 10), "gamma": (11, 16), "delta": (17, 22), "epsilon": (23, 30)}


def long_window(words: list[str], start: dict[str, float], end: dict[str, float], cls: float = 0.0) -> Window:
    """``[CLS] q [SEP] words... [SEP]`` over the five-word context."""
    n = 3 + len(words) + 1
    s, e = np.zeros(n), np.zeros(n)
    s[0] = e[0] = cls
    offsets = [(0, 0)] * 3 + [LONG_WORDS[w] for w in words] + [(0, 0)]
    for i, word in enumerate(words):
        s[3 + i] = start.get(word, 0.0)
        e[3 + i] = end.get(word, 0.0)
    mask = [False] * 3 + [True] * len(words) + [False]
    return Window(s, e, mask, offsets)


def test_an_answer_that_crosses_a_window_border_is_found_whole_in_the_next_window():
    # window A ends at 'gamma'; the answer 'gamma delta' lies whole only in window B (overlap: gamma)
    a = long_window(["alpha", "beta", "gamma"], {"gamma": 6.0}, {})
    b = long_window(["gamma", "delta", "epsilon"], {"gamma": 6.0}, {"delta": 6.0})
    result = decode([a, b], LONG, top_k=5)
    assert result["answer"] == "gamma delta" and result["best_window"] == 1
    assert result["windows"] == 2
    assert_substrings(result, LONG)


def test_spans_never_join_two_windows():
    # A's best start is 'beta', B's best end is 'delta': 'beta gamma delta' exists in neither window
    a = long_window(["alpha", "beta", "gamma"], {"beta": 9.0}, {})
    b = long_window(["gamma", "delta", "epsilon"], {}, {"delta": 9.0})
    result = decode([a, b], LONG, top_k=50)
    assert "beta gamma delta" not in [x["answer"] for x in result["answers"]]
    for answer in result["answers"]:
        inside_a = answer["end"] <= LONG_WORDS["gamma"][1]
        inside_b = answer["start"] >= LONG_WORDS["gamma"][0]
        assert inside_a or inside_b


@pytest.mark.parametrize("likelier", [0, 1])
def test_windows_are_ranked_together_and_overlaps_counted_once(likelier):
    logits = [3.0, 5.0] if likelier == 1 else [5.0, 3.0]  # 'gamma' is in both windows; one is surer
    a = long_window(["alpha", "beta", "gamma"], {"gamma": logits[0]}, {"gamma": logits[0]})
    b = long_window(["gamma", "delta", "epsilon"], {"gamma": logits[1]}, {"gamma": logits[1]})
    result = decode([a, b], LONG, top_k=50)
    gammas = [x for x in result["answers"] if x["answer"] == "gamma"]
    assert len(gammas) == 1
    assert gammas[0]["score"] == pytest.approx(window_spans([a, b][likelier], 15, 1).spans[0][0])
    assert result["answer"] == "gamma" and result["best_window"] == likelier


def test_no_answer_wins_when_the_cls_score_beats_every_span():
    w = window({0: 10.0, 7: 2.0}, {0: 10.0, 8: 2.0})
    plain = decode([w], CONTEXT)
    assert plain["answer"] == "beta gamma"  # without the option, the best span
    result = decode([w], CONTEXT, allow_no_answer=True, top_k=3)
    assert (result["answer"], result["start"], result["end"]) == ("", 0, 0)
    assert result["score"] == pytest.approx(result["no_answer_score"])
    assert result["answers"][1]["answer"] == "beta gamma"
    # a span likelier than "no answer" wins even when no answer is allowed
    w = window({0: 1.0, 7: 10.0}, {0: 1.0, 8: 10.0})
    assert decode([w], CONTEXT, allow_no_answer=True)["answer"] == "beta gamma"


def test_no_answer_score_is_the_smallest_over_windows():
    # window A is sure there is no answer; window B holds one: the answer wins (the pipeline's rule)
    a = long_window(["alpha", "beta", "gamma"], {}, {}, cls=10.0)
    b = long_window(["gamma", "delta", "epsilon"], {"delta": 8.0}, {"delta": 8.0}, cls=0.0)
    result = decode([a, b], LONG, allow_no_answer=True)
    assert result["answer"] == "delta"
    null_b = window_spans(b, 15, 1).null_score
    assert result["no_answer_score"] == pytest.approx(null_b)
    assert null_b < window_spans(a, 15, 1).null_score


def test_offsets_with_spaces_are_trimmed_and_answers_stay_substrings():
    context = "  alpha  beta "
    offsets = [(0, 0), (1, 7), (7, 13), (0, 0)]  # a byte-level BPE marks the leading spaces as part of a token
    w = Window([0, 5, 0, 0], [0, 0, 5, 0], [False, True, True, False], offsets)
    result = decode([w], context)
    assert result["answer"] == "alpha  beta" == context[result["start"]:result["end"]]


def test_top_k_counts_distinct_texts_not_token_spans():
    """Two pieces of one word widen to the same text: the window still yields top_k different answers."""
    context = "unbelievable story"
    offsets = [(0, 0), (0, 12), (0, 12), (0, 12), (13, 18), (0, 0)]  # un ##believ ##able → one word
    w = Window([0, 9, 8, 7, 1, 0], [0, 0, 0, 9, 5, 0], [False, True, True, True, True, False], offsets)
    result = decode([w], context, top_k=2)
    assert [a["answer"] for a in result["answers"]] == ["unbelievable", "unbelievable story"]


def test_window_checks_its_arrays():
    with pytest.raises(ValueError):
        Window([0, 1], [0, 1, 2], [True, True], [(0, 1), (1, 2)])
    assert Window([0, 1], [0, 1], [True, True], [(0, 1), (1, 2)], null_index=None).null_index is None
    assert Window([0, 1], [0, 1], [True, True], [(0, 1), (1, 2)], null_index=7).null_index is None
