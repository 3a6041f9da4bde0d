"""Corpus handling: tokenizers and vocabularies, reading and encoding corpora,
tf.data pipelines, and the two synthetic languages with a known truth (the
grammars and the SeqGAN oracle)."""
