"""What the insight views read from a model standing still (between two steps, or idle), worked out in the
thread that holds it still, posted as one ``ModelReading``."""

from __future__ import annotations

from seqlm_tui.core import attention, insight, neurons
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models import registry
from seqlm_tui.core.run import Run
from seqlm_tui.tui.messages import ModelReading


def reading(run: Run) -> ModelReading:
    model, vocab, cfg = run.model, run.vocab, run.cfg
    try:
        table, table_note = insight.bigram_table(model, vocab), ""
    except SeqlmError as err:
        table, table_note = None, str(err)
    spec = registry.get(cfg.model.model)
    if insight.has_embedding(model):
        return ModelReading(run, run.step, insight.embedding_map(model, vocab), "", table, table_note)
    if "one_hot" in spec.fields and cfg.model.one_hot:
        note = "one-hot input has no embedding to show; set one-hot input off in Setup (then n) to learn one."
    else:
        note = f"{spec.title} has no character embedding to show" + ("; its table is under Bigram." if table else ".")
    return ModelReading(run, run.step, None, note, table, table_note)


def looked_into(run: Run) -> bool:
    """Whether the neuron or the attention view reads this model at each evaluation."""
    return neurons.has_units(run.model) or attention.has_attention(run.model)


def has_reading(run: Run) -> bool:
    """Whether the model has anything for the embedding or bigram views to follow while it trains."""
    return insight.has_embedding(run.model) or insight.has_bigram_table(run.model)
