"""The hand-written Elman RNN against ``torch.nn.RNN``: the same weights in both, a real batch through both,
the largest difference of their outputs. The lesson "An RNN by hand equals nn.RNN" runs it on the app's
current model; ``seqlm-tui inspect --against-torch`` on a checkpoint."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqlm_tui.core.batches import make_batcher
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models.elman import ElmanLM, ElmanRNN, copy_weights
from seqlm_tui.core.models.recurrent import TorchRNNLM
from seqlm_tui.core.run import Run

ROWS = 64  # dev sequences compared: a real batch, small enough to take a moment


@torch.no_grad()
def elman_vs_torch(run: Run) -> dict:
    """Copy the run's recurrent layer into its counterpart (hand-written <-> ``nn.RNN``), feed both the same
    dev batch from the same state, and measure the largest absolute difference of the hidden states at every
    position and of the logits. Works for the Elman RNN and a one-layer torch RNN."""
    model = run.model
    if isinstance(model, ElmanLM):
        mine, theirs = model.rnn, nn.RNN(model.rnn.input_size, model.rnn.hidden_size, batch_first=True)
        copy_weights(mine, theirs)
        inputs = (lambda x: F.one_hot(x, model.vocab_size).float()) if model.one_hot else model.embed
    elif isinstance(model, TorchRNNLM) and model.cell == "rnn" and model.layers == 1:
        theirs = model.rnn
        mine = ElmanRNN(theirs.input_size, theirs.hidden_size)
        copy_weights(theirs, mine)
        inputs = model.inputs
    else:
        raise SeqlmError("the comparison with nn.RNN is for the hand-written Elman RNN or a one-layer torch RNN; "
                         f"this model is {run.cfg.model.model}.")
    ds = run.ensure_dataset()
    batches = make_batcher(ds, "dev", "sequence", 1, ROWS, run.cfg.data.num_steps, "sequential", None,
                           str(model.device))
    x, _, _ = next(iter(batches.eval_batches(0)))
    x = x[:ROWS]
    mine, theirs = mine.to(model.device), theirs.to(model.device)
    inp = inputs(x.clamp(min=0))
    h_mine, _ = mine(inp)
    h_theirs, _ = theirs(inp)
    hidden = float((h_mine - h_theirs).abs().max())
    head = model.head
    logits = float((head(h_mine) - head(h_theirs)).abs().max())
    shape = "x".join(str(n) for n in h_mine.shape)
    return {"max_diff": max(hidden, logits), "hidden_diff": hidden, "logits_diff": logits, "values": h_mine.numel(),
            "said": f"largest difference {max(hidden, logits):.1e} over {h_mine.numel():,} outputs ({shape})"}


EXPERIMENTS = {"elman_vs_torch": elman_vs_torch}
