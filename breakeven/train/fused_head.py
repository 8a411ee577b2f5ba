"""trl's fused LM head, scoring only the positions that carry a label on CPU too.

trl 1.16's SFTTrainer computes the loss with a fused, chunked LM head (``trl.trainer.utils.add_fused_lm_head``):
no ``(batch, length, vocabulary)`` logits are ever materialised. On devices with Triton it projects only the
positions whose label is not ``-100``; elsewhere it projects every position, so that tile shapes stay fixed for
ahead-of-time compilers (Neuron). Eager CPU training compiles nothing, and there every prompt token (the label
list of a 77-intent task included) went through the 49k-row vocabulary projection, forward and backward, to be
masked out: 27 % of a support-email training step, measured with torch.profiler. The projection is the same
either way; only positions without a label are skipped.
"""

from __future__ import annotations


def score_labelled_positions_only() -> None:
    """Make the fused LM head compact to labelled positions on CPU as it does on Triton devices."""
    import trl.trainer.utils as trl_utils
    from trl.kernels.chunked_logprob import _use_triton

    trl_utils._use_triton = lambda device: device.type == "cpu" or _use_triton(device)
