"""Property tests (hypothesis): vocabularies round-trip, any prompt is either refused in one sentence or
leaves a state that streams, terminal text never carries control characters, and configuration parsing
and validation raise nothing but SeqlmError."""

import math
import unicodedata
from dataclasses import fields

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlm_tui.core.config import SECTIONS, ModelConfig, RunConfig, check_value, field_type, parse_value
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.generate import MAX_PROMPT, Generator, Sampling
from seqlm_tui.core.models import registry
from seqlm_tui.core.rules import validate
from seqlm_tui.core.textsafe import printable
from seqlm_tui.core.vocab import UNK, Vocab, char_counts

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # runs a model

# Text as it comes out of a UTF-8 file: any character but lone surrogates (which UTF-8 cannot hold).
file_chars = st.characters(blacklist_categories=("Cs",))
line_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")


# -- vocabularies ------------------------------------------------------------------------------


@FAST
@given(st.lists(st.text(line_chars, min_size=1, max_size=20), min_size=1, max_size=8))
def test_lines_vocab_round_trips_every_line(lines):
    vocab = Vocab.for_lines(set("".join(lines)))
    assert vocab.tokens[vocab.boundary] in (".", "\n") and len(set(vocab.tokens)) == len(vocab)
    for line in lines:
        ids = vocab.encode(line)
        assert vocab.decode(ids) == line and all(0 <= i < len(vocab) for i in ids)
        assert vocab.encode_tensor(line).tolist() == ids  # the bulk path agrees with the prompt path


@FAST
@given(st.text(file_chars, min_size=1, max_size=300), st.text(file_chars, max_size=60))
def test_stream_vocab_round_trips_known_text_and_marks_the_rest_unknown(corpus, prompt):
    vocab = Vocab.for_stream(char_counts(corpus))
    assert vocab.tokens[vocab.unk] == UNK
    assert vocab.decode(vocab.encode(corpus)) == corpus
    ids = vocab.encode(prompt)
    assert len(ids) == len(prompt)
    assert vocab.encode_tensor(prompt).tolist() == ids if prompt else True
    for ch, i in zip(prompt, ids):
        assert (i == vocab.unk) == (ch not in corpus)
        if i != vocab.unk:
            assert vocab.tokens[i] == ch


@FAST
@given(st.lists(st.integers(0, 127), max_size=30), st.sampled_from([" ", "  ", "\t", " \n "]))
def test_numbers_vocab_round_trips(ids, sep):
    vocab = Vocab.numbers(128)
    text = sep.join(str(i) for i in ids)
    assert vocab.encode(text) == ids
    assert vocab.encode(vocab.decode(ids)) == ids


@FAST
@given(st.text(max_size=40))
def test_numbers_vocab_refuses_anything_else_in_one_sentence(text):
    vocab = Vocab.numbers(128)
    try:
        ids = vocab.encode(text)
    except SeqlmError as err:
        assert "\n" not in str(err) and len(str(err)) < 300
        return
    assert all(0 <= i < 128 for i in ids) and vocab.encode(vocab.decode(ids)) == ids


# -- prompts -----------------------------------------------------------------------------------


def tiny_model(name: str, vocab: Vocab):
    torch.manual_seed(0)
    cfg = registry.defaults_for(name)
    if name == "transformer":
        cfg = ModelConfig(model=name, emb=8, heads=2, layers=1, block_size=8)
    return registry.build(cfg, len(vocab), vocab.boundary or 0)


CASES = {
    "names-elman": (Vocab.for_lines(set("abcdefghijklmnopqrstuvwxyz")), "elman"),
    "stream-transformer": (Vocab.for_stream(char_counts("the time machine, by h. g. wells\n")), "transformer"),
    "stream-lstm": (Vocab.for_stream(char_counts("the time machine, by h. g. wells\n")), "lstm"),
    "counting-mlp": (Vocab.numbers(128), "mlp"),
}
MODELS = {k: tiny_model(m, v) for k, (v, m) in CASES.items()}

prompts = st.one_of(
    st.text(max_size=300),  # anything, past the 256-token feed chunk too
    st.text("abc xyz.\n", max_size=300),
    st.lists(st.integers(-5, 300), max_size=40).map(lambda xs: " ".join(map(str, xs))),
    st.sampled_from(["", " ", "\x1b[2J\x1b]0;pwned\x07", "[bold]x[/bold]", "\x00", "é" * 10]),
)


@pytest.mark.parametrize("case", list(CASES))
@FEW
@given(prompt=prompts)
def test_any_prompt_is_refused_in_one_sentence_or_leaves_a_state_that_streams(case, prompt):
    vocab = CASES[case][0]
    g = Generator(MODELS[case], vocab, Sampling(), seed=0)
    try:
        fed = g.feed(prompt)
    except SeqlmError as err:
        assert "\n" not in str(err)
        return
    assert fed == len(vocab.encode(prompt))
    if not g.ready:  # nothing to continue from (counting, blank prompt): said in one sentence
        with pytest.raises(SeqlmError, match="type a prompt first"):
            next(g.stream(1))
        return
    out = list(g.stream(5, stop_at_boundary=False))
    assert len(out) == 5 and all(0 <= i < len(vocab) and i != vocab.unk for i in out)
    assert all(math.isfinite(p) for _, p in g.top(3))


def test_a_prompt_over_the_limit_is_one_sentence():
    vocab, _ = CASES["stream-lstm"]
    with pytest.raises(SeqlmError, match="the limit is"):
        Generator(MODELS["stream-lstm"], vocab).feed("t" * (MAX_PROMPT + 1))


# -- terminal text -----------------------------------------------------------------------------


@FAST
@given(st.text(max_size=200))
def test_printable_lets_no_control_character_through(text):
    shown = printable(text)
    assert all(c in "\n\t" or unicodedata.category(c) != "Cc" for c in shown)
    assert "\x1b" not in shown and "\x9b" not in shown  # ESC and CSI: no escape sequence can start
    if all(c in "\n\t" or unicodedata.category(c) != "Cc" for c in text):
        assert shown == text  # plain text is left alone


# -- configuration -----------------------------------------------------------------------------

ALL_FIELDS = [(section, f) for section, kind in SECTIONS.items() for f in fields(kind)]
anything = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True),
                     st.text(max_size=12), st.lists(st.integers(), max_size=2), st.integers(-(2**4000), 2**4000))
typed_text = st.one_of(st.text(max_size=12), st.from_regex(r"-?[0-9_]{1,30}(\.[0-9]*)?(e-?[0-9]{1,4})?",
                                                         fullmatch=True),
                       st.sampled_from(["nan", "inf", "-inf", "1e999", "yes", "no", "0x10", "1_000", "9" * 5000]))


@FAST
@given(st.sampled_from(ALL_FIELDS), typed_text)
def test_parsing_what_a_user_types_raises_only_seqlm_error(spec, text):
    _, f = spec
    try:
        value = parse_value(f, text)
        check_value(f, value)
    except SeqlmError as err:
        assert "\n" not in str(err) and len(str(err)) < 300
        return
    assert type(value) is field_type(f) or (field_type(f) is float and type(value) is int)


@FAST
@given(st.sampled_from(ALL_FIELDS), anything)
def test_check_value_refuses_wrong_types_in_one_sentence(spec, value):
    _, f = spec
    kind = field_type(f)
    try:
        check_value(f, value)
    except SeqlmError as err:
        assert "\n" not in str(err) and len(str(err)) < 300
        return
    # Accepted: exactly the field's type (an int for a float field), never a bool for a number.
    if kind is float:
        assert type(value) in (int, float) and math.isfinite(value)
    else:
        assert type(value) is kind


@pytest.mark.parametrize("field_name, value, words", [
    ("hidden", "32", "hidden must be a whole number, not '32'"),
    ("hidden", 32.0, "hidden must be a whole number, not 32.0"),
    ("hidden", True, "hidden must be a whole number, not True"),
    ("one_hot", 1, "one-hot input must be yes or no, not 1"),
    ("dropout", "0.1", "dropout must be a number, not '0.1'"),
])
def test_wrong_types_get_one_sentence(field_name, value, words):
    cfg = RunConfig()
    setattr(cfg.model, field_name, value)
    with pytest.raises(SeqlmError) as err:
        validate(cfg)
    assert str(err.value) == words + "."


@FAST
@given(st.dictionaries(st.sampled_from(["data", "model", "train", "other"]),
                       st.one_of(anything, st.dictionaries(st.sampled_from(
                           [f.name for _, f in ALL_FIELDS] + ["unknown"]), anything, max_size=6)),
                       max_size=4))
def test_a_configuration_from_a_file_raises_only_seqlm_error(d):
    try:
        cfg = validate(RunConfig.from_dict(d))
    except SeqlmError as err:
        assert "\n" not in str(err)
        return
    assert isinstance(cfg, RunConfig)


@FAST
@given(anything)
def test_a_configuration_that_is_not_a_table_is_one_sentence(d):
    with pytest.raises(SeqlmError) as err:
        RunConfig.from_dict(d if not isinstance(d, dict) else [d])
    assert "\n" not in str(err.value) and str(err.value).endswith(".")
