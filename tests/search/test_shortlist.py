"""Vocabulary shortlists: the table built from pairs, the per-batch lists, and searches that score
only the listed words (a list holding every word must change nothing)."""

import keras
import numpy as np
import pytest

from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.search.shortlist import FILE, Shortlist
from keras_seq2seq.text.vocabulary import EOS_ID, UNK_ID

# Source word 4 always comes with target word 9, and with 8 half the time; 5 comes with 10.
SOURCES = [np.array([4, 3]), np.array([4, 5, 3]), np.array([5, 3]), np.array([4, 6, 3])]
TARGETS = [np.array([9, 8, 3]), np.array([9, 10, 3]), np.array([10, 11, 3]), np.array([9, 8, 7, 3])]


def test_table_keeps_frequent_words_and_each_source_words_likeliest_targets():
    table = Shortlist.build(SOURCES, TARGETS, source_vocab_size=7, target_vocab_size=12,
                            frequent=2, per_source=2)
    assert table.frequent.tolist() == [EOS_ID, UNK_ID]  # the special words always come first
    assert table.candidates[4].tolist() == [9, 8]  # 9 in 3 of 3 targets, 8 in 2 of 3
    assert table.candidates[5].tolist() == [10, 9]  # 10 in 2 of 2; 9 and 11 in 1 of 2: lower id first
    assert table.candidates[0].tolist() == [-1, -1]  # never seen: no candidates


def test_batch_lists_put_frequent_words_first_then_candidates_by_rank():
    table = Shortlist(np.array([3, 1]), np.array([[-1, -1]] * 4 + [[9, 8], [10, 9], [-1, -1]]))
    batch = np.array([[4, 5, 0], [5, 0, 0]])
    assert table.for_batch(batch, 8).tolist() == [3, 1, 9, 10, 8, -1, -1, -1]
    assert table.for_batch(batch, 3).tolist() == [3, 1, 9]  # cut at the size: lowest ranks go


def test_files_round_trip_and_damage_is_named(tmp_path):
    table = Shortlist.build(SOURCES, TARGETS, 7, 12, frequent=3, per_source=2)
    table.save(tmp_path)
    loaded = Shortlist.load(tmp_path, 7, 12)
    np.testing.assert_array_equal(loaded.frequent, table.frequent)
    np.testing.assert_array_equal(loaded.candidates, table.candidates)


def test_a_table_from_another_model_or_a_broken_file_is_refused(tmp_path):
    Shortlist.build(SOURCES, TARGETS, 7, 12).save(tmp_path)
    with pytest.raises(Seq2SeqError, match="does not fit this model"):
        Shortlist.load(tmp_path, 8, 12)
    (tmp_path / FILE).write_text('{"format": 1, "frequent": [3', encoding="utf-8")
    with pytest.raises(Seq2SeqError, match="not a shortlist file"):
        Shortlist.load(tmp_path, 7, 12)
    assert Shortlist.load(tmp_path / "elsewhere", 7, 12) is None


class _Table:
    """A fixed list for every batch (what `Generator` asks of a shortlist table)."""

    def __init__(self, ids):
        self.ids = np.asarray(ids, "int32")

    def for_batch(self, source_ids, size):
        return self.ids[:size]


def _model(tie_embeddings=False):
    keras.utils.set_random_seed(3)
    model = Seq2Seq(12, 15, embedding_dim=8, units=16, attention="luong-general",
                    tie_embeddings=tie_embeddings)
    model.build()
    return model


SOURCE_IDS = np.array([[4, 5, 6, 0], [7, 8, 9, 10], [4, 0, 0, 0]], "int32")


@pytest.mark.parametrize("beam_size", [1, 3])
@pytest.mark.parametrize("tie_embeddings", [False, True])
def test_a_shortlist_of_every_word_in_any_order_changes_nothing(beam_size, tie_embeddings):
    model = _model(tie_embeddings)
    full = Generator(model, 7, SearchOptions(beam_size=beam_size, n_best=1)).generate(SOURCE_IDS)
    # Every word, shuffled, and two unused slots: positions must map back to the right ids.
    words = np.concatenate([np.random.default_rng(0).permutation(15), [-1, -1]])
    listed = Generator(model, 7, SearchOptions(beam_size=beam_size, n_best=1, shortlist=len(words)), shortlist=_Table(words)).generate(SOURCE_IDS)
    np.testing.assert_array_equal(listed[0], full[0])
    np.testing.assert_allclose(listed[1], full[1], rtol=1e-5)


@pytest.mark.parametrize("beam_size", [1, 3])
def test_searches_write_only_listed_words(beam_size):
    model = _model()
    full = Generator(model, 7, SearchOptions(beam_size=beam_size, n_best=1)).generate(SOURCE_IDS)[0]
    used = set(full.ravel().tolist()) - {0, EOS_ID}
    assert used, "the full search should write some words"
    # Leave out the words the full search wrote, except <eos>.
    allowed = [w for w in range(15) if w not in used and w not in (0, 2)]
    ids = Generator(model, 7, SearchOptions(beam_size=beam_size, n_best=1, shortlist=len(allowed)), shortlist=_Table(allowed)).generate(SOURCE_IDS)[0]
    assert set(ids.ravel().tolist()) <= set(allowed) | {0}


def test_sampling_with_a_shortlist_is_refused():
    with pytest.raises(Seq2SeqError, match="greedy and beam"):
        Generator(_model(), 7, SearchOptions(sampling={"temperature": 1.0, "top_k": 0, "top_p": 1.0}, shortlist=15), shortlist=_Table(range(15)))
