"""One corpus interface for pairs held in memory and for a streamed file."""

import numpy as np
import pytest

from keras_seq2seq.config import Settings
from keras_seq2seq.data.batching import within_limits
from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.data.streaming import StreamedCorpus
from keras_seq2seq.data.training_data import PairList, as_pair, training_data
from keras_seq2seq.errors import ConfigError, Seq2SeqError

PAIRS = [("a b c", "x y"), ("a", "x"), ("a b c d e f", "x y z"), ("b c", "y y y y y y y")]


def _encode(source, target):
    return np.arange(1, len(source.split()) + 1), np.arange(1, len(target.split()) + 2)  # + <eos>


def test_the_length_rule_does_not_count_the_end_of_sentence():
    assert within_limits(5, 6, 5, 5) and not within_limits(6, 6, 5, 5) and not within_limits(5, 7, 5, 5)
    assert within_limits(500, 500, None, None)


def test_pairs_in_memory_and_a_stream_plan_the_same_pairs(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in PAIRS), encoding="utf-8")
    settings = Settings().updated(max_source_len=4, max_target_len=4, batch_size=2)
    held = training_data(PAIRS)
    streamed = training_data(StreamedCorpus(path, format="tsv", source_column=0, target_column=1))
    assert held.in_memory and not streamed.in_memory
    plans = [data.plan(_encode, settings) for data in (held, streamed)]
    assert [(p.kept, p.dropped, p.longest_target) for p in plans] == [(2, 2, 3)] * 2
    assert plans[0].encoded is not None and plans[1].encoded is None  # the shortlist needs held pairs
    assert all(p.batches.batches_per_epoch == 1 for p in plans)
    held_vocab, streamed_vocab = held.vocabularies(settings), streamed.vocabularies(settings)
    assert held_vocab.source_vocab == streamed_vocab.source_vocab
    assert held_vocab.target_vocab == streamed_vocab.target_vocab


def test_fingerprints_see_every_pair_in_order(tmp_path):
    assert PairList(PAIRS).fingerprint == PairList([Pair(*p) for p in PAIRS]).fingerprint
    assert PairList(PAIRS).fingerprint != PairList(PAIRS[::-1]).fingerprint
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in PAIRS), encoding="utf-8")
    corpus = StreamedCorpus(path, format="tsv", source_column=0, target_column=1)
    unscanned = corpus.fingerprint  # a pass of its own
    assert corpus.scan(Settings()).fingerprint == unscanned


def test_all_pairs_too_long_or_none_at_all_say_so():
    with pytest.raises(ConfigError, match="all 3 training pairs are longer"):
        PairList([p for p in PAIRS if p[0] != "a"]).plan(_encode, Settings().updated(max_source_len=1, max_target_len=1))
    with pytest.raises(ConfigError, match="no training pairs"):
        PairList([]).vocabularies(Settings())


def test_anything_else_than_a_pair_is_refused():
    assert as_pair(("a", "b")) == Pair("a", "b")
    with pytest.raises(Seq2SeqError, match="expected a .source, target. pair"):
        as_pair("abc")
