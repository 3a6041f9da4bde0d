"""Every metric's signature comes from one formatter, in the documented shape."""

import pytest

from seqgan_gumbel import __version__
from seqgan_gumbel.corpus.loading import CorpusStats
from seqgan_gumbel.corpus.grammar import validity_signature
from seqgan_gumbel.metrics.bleu import BleuResult
from seqgan_gumbel.signature import signature


def _nll_test():
    from seqgan_gumbel.evaluation.likelihood import nll_test_signature

    return nll_test_signature(CorpusStats(2000, 1990, 7, 3, 0, 20000), "word")


def _nll_oracle():
    from seqgan_gumbel.corpus.oracle import nll_oracle_signature

    return nll_oracle_signature("seqgan_oracle_params.npz", 20, 2000)


@pytest.mark.parametrize("make, expected", [
    (lambda: signature("x", a=1, b="two"), "x|a:1|b:two"),
    (lambda: BleuResult("bleu", {2: 0.5, 5: 0.1}, 10, 64).signature,
     "bleu|n:2,5|samples:10|refs:64|tok:word|smooth:method1|refs_per_hyp:all"),
    (_nll_test, "nll_test|model:generator.keras|sentences:1990|dropped:7|truncated:3|tok:word|eos:included|"
                "units:nats/token"),
    (lambda: validity_signature("simple_english.pcfg", 1000, "word"),
     "grammar_validity|grammar:simple_english.pcfg|samples:1000|tok:word|parser:nltk-chart"),
    (_nll_oracle, "nll_oracle|oracle:seqgan|weights:seqgan_oracle_params.npz|length:20|samples:2000|units:nats/token"),
])
def test_signatures_record_every_setting_and_the_version(make, expected):
    assert make() == f"{expected}|version:{__version__}"
