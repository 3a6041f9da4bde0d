"""Text-generation metrics (pure Python/numpy, no TensorFlow).

BLEU and Self-BLEU live in :mod:`seqgan_gumbel.metrics.bleu`; import them from
there.  They are not re-exported here on purpose: a function named ``bleu``
in this namespace would shadow the submodule ``bleu`` (breaking
``import seqgan_gumbel.metrics.bleu as m`` and mock paths).
"""
