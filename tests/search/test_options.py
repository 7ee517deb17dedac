"""SearchOptions: every value checked once, where the options are made, naming the field."""

import pytest

from keras_seq2seq.search.options import InvalidOption, Sampling, SearchOptions


@pytest.mark.parametrize("changes, field", [
    ({"beam_size": 0}, "beam_size"),
    ({"beam_size": 2.0}, "beam_size"),
    ({"beam_size": True}, "beam_size"),
    ({"n_best": 2}, "n_best"),
    ({"beam_size": 3, "n_best": 4}, "n_best"),
    ({"length_penalty": -0.1}, "length_penalty"),
    ({"length_penalty": 600}, "length_penalty"),
    ({"length_penalty": float("nan")}, "length_penalty"),
    ({"seed": -1}, "seed"),
    ({"no_repeat_ngram": -1}, "no_repeat_ngram"),
    ({"shortlist": -5}, "shortlist"),
    ({"max_length": 0}, "max_length"),
    ({"sampling": {"temperature": 0}}, "temperature"),
    ({"sampling": {"temperature": float("inf")}}, "temperature"),
    ({"sampling": {"top_k": -1}}, "top_k"),
    ({"sampling": {"top_p": 2}}, "top_p"),
    ({"sampling": {"top_p": 0}}, "top_p"),
    ({"sampling": {"heat": 1}}, "sampling"),
    ({"sampling": {}, "beam_size": 3, "n_best": 1}, "beam_size"),
    ({"sampling": {}, "shortlist": 100}, "shortlist"),
    ({"no_repeat_ngram": 2, "shortlist": 100}, "shortlist"),
])
def test_each_bad_value_is_refused_naming_its_field(changes, field):
    with pytest.raises(InvalidOption) as refused:
        SearchOptions(**changes)
    assert refused.value.field == field
    assert str(refused.value).startswith(field + " ")
    assert isinstance(refused.value, ValueError)  # what Python callers have always caught


def test_sampling_comes_from_a_dict_or_itself_and_is_hashable():
    options = SearchOptions(sampling={"temperature": 0.8, "top_p": 0.9})
    assert options.sampling == Sampling(temperature=0.8, top_k=0, top_p=0.9)
    assert options == SearchOptions(sampling=Sampling(0.8, 0, 0.9))
    assert len({options, SearchOptions(sampling=Sampling(0.8, 0, 0.9)), SearchOptions()}) == 2


def test_the_program_key_ignores_what_does_not_change_the_program():
    base = SearchOptions(beam_size=4, n_best=2, length_penalty=0.6)
    assert base.program() == base.replace(seed=7, replace_unk=True).program()
    # Values are inputs of the compiled program: a new one must not compile a new program.
    assert base.program() == base.replace(n_best=1).program()
    assert base.program() == base.replace(length_penalty=0.0).program()
    assert base.program() == base.replace(length_penalty=10).program()
    assert base.program() != base.replace(beam_size=5).program()
    assert base.program() != base.replace(attention=True).program()
    hot = SearchOptions(sampling={"temperature": 2.0, "top_k": 5, "top_p": 0.9})
    assert hot.program() == hot.replace(sampling={"temperature": 1e-30, "top_k": 10**9, "top_p": 0.1}).program()
    # Whether a filter runs at all is part of the program.
    assert hot.program() != hot.replace(sampling={"temperature": 2.0, "top_p": 0.9}).program()
    assert hot.program() != hot.replace(sampling={"temperature": 2.0, "top_k": 5}).program()
    assert hot.program() != SearchOptions().program()


def test_a_server_sees_few_programs_whatever_values_it_is_sent():
    values = [SearchOptions(beam_size=b, n_best=n, length_penalty=a)
              for b in (2, 5) for n in range(1, b + 1) for a in (0, 0.1, 0.6, 1.0, 3.3, 10)]
    values += [SearchOptions(sampling={"temperature": t, "top_k": k, "top_p": p})
               for t in (1e-30, 0.5, 1.0, 7.0, 1e30) for k in (1, 3, 10**12) for p in (0.01, 0.5, 0.99)]
    assert len({options.program() for options in values}) == 3


def test_a_default_shortlist_applies_only_where_the_search_can_use_it():
    assert SearchOptions().with_default_shortlist(2048).shortlist == 2048
    assert SearchOptions(shortlist=512).with_default_shortlist(2048).shortlist == 512
    assert SearchOptions(sampling={}).with_default_shortlist(2048).shortlist == 0
    assert SearchOptions(no_repeat_ngram=3).with_default_shortlist(2048).shortlist == 0


def test_replace_checks_again():
    with pytest.raises(InvalidOption, match="n_best"):
        SearchOptions(beam_size=4, n_best=4).replace(beam_size=2)
