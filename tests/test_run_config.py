"""Run files: every setting has an option, settings print as options that make them again, and a
file that is not what it should be says so with its line."""

import dataclasses

import pytest

from keras_seq2seq.config import PRESETS, ModelSettings, Settings, TextSettings, TrainSettings, preset
from keras_seq2seq.errors import ConfigError
from keras_seq2seq.run_config import (SETTING_OPTIONS, apply, dump, load, options_of, run_options)


def same(a: Settings, b: Settings) -> bool:
    """Equal settings, tokenisers compared by what they do (defaults written out or not)."""
    def normal(settings):
        data = settings.to_dict()
        for side in ("source_tokenizer", "target_tokenizer"):
            data["text"][side] = {"kind": "word", "lowercase": False, "normalize": "NFC", **data["text"][side]}
        return data

    return normal(a) == normal(b)


def test_every_setting_has_an_option():
    covered = {(section, field) for section, field in SETTING_OPTIONS.values()}
    tokenizers = {("text", "source_tokenizer"), ("text", "target_tokenizer")}
    for section, kind in (("text", TextSettings), ("model", ModelSettings), ("train", TrainSettings)):
        for field in dataclasses.fields(kind):
            assert (section, field.name) in covered | tokenizers, f"{section}.{field.name} has no train option"
    assert ("", "max_output_len") in covered


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_prints_as_options_that_make_it_again_from_any_other(name):
    options = options_of(preset(name))
    for start in (Settings(), preset("dates"), preset("tatoeba-subword")):
        assert same(apply(start, options), preset(name))


def test_unusual_settings_round_trip_too():
    settings = Settings().updated(source_tokenizer={"kind": "char", "lowercase": True, "normalize": None},
                                  target_tokenizer={"kind": "sentencepiece", "model_file": "target.model"},
                                  max_vocab=None, max_source_len=None, max_minutes=12.5, batch_tokens=4096)
    options = options_of(settings)
    assert options["source_tokenizer"] == {"kind": "char", "lowercase": True, "normalize": None}
    assert options["target_tokenizer"] == {"kind": "sentencepiece"}  # the trained file is no option
    assert options["max_vocab"] == 0 and options["max_source_len"] == 0  # 0: no limit
    again = apply(preset("tatoeba-small"), options)
    assert again.text.source_tokenizer == {"kind": "char", "lowercase": True, "normalize": None}
    assert again.text.target_tokenizer == {"kind": "sentencepiece"}
    assert (again.text.max_vocab, again.train.max_source_len, again.train.max_minutes) == (None, None, 12.5)


def test_apply_keeps_what_is_not_given_and_reads_the_shorthands():
    settings = apply(preset("tatoeba-small"), {"epochs": None, "max_len": 30, "max_target_len": 40,
                                               "tokenizer": "char", "lowercase": True, "normalize": "none"})
    assert settings.train.epochs == preset("tatoeba-small").train.epochs
    assert (settings.train.max_source_len, settings.train.max_target_len) == (30, 40)
    assert settings.text.source_tokenizer == {"kind": "char", "lowercase": True, "normalize": None}
    with pytest.raises(ConfigError, match="source_tokenizer must be a kind"):
        apply(Settings(), {"source_tokenizer": 3})
    with pytest.raises(ConfigError, match="dropout must be in"):
        apply(Settings(), {"dropout": 1.5})


def test_dump_and_load_read_back_every_value_with_its_line(tmp_path):
    options = {"preset": "tatoeba-small", "data": "a b/train.tsv", "source_lang": "spa", "learning_rate": 1e-3,
               "lowercase": False, "normalize": "none", "source_tokenizer": {"kind": "word", "lowercase": True},
               "max_minutes": 0, "seed": None}
    path = tmp_path / "run.yaml"
    path.write_text(dump(options, comments={"learning_rate": "Adam learning rate"}, header="two\nlines"))
    text = path.read_text()
    assert text.startswith("# two\n# lines\n") and "learning_rate: 0.001  # Adam learning rate" in text
    found = load(path)
    assert {key: value for key, (value, _) in found.items()} == {k: v for k, v in options.items() if v is not None}
    assert found["preset"][1] == 3 and found["max_minutes"][1] == 10  # lines, the header's two counted


@pytest.mark.parametrize("text, message", [
    ("epochs: 2\nunits: 3\nepochs: 4\n", r"run.yaml:3: epochs is given twice \(first on line 1\)"),
    ("epochs: 2\nunits: [3\n", r"run.yaml:3: not valid YAML"),
    ("- epochs\n- 2\n", r"run.yaml:1: expected option names with values"),
    ("epochs: 2\n3: units\n", r"run.yaml:2: option names are words"),
])
def test_a_bad_file_names_itself_and_the_line(tmp_path, text, message):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    assert load(tmp_path / "empty.yaml") == {}


def test_a_models_options_from_its_record():
    settings = preset("dates").to_dict()
    recorded = {"run": {"preset": "dates", "task": "dates", "task_size": 3000, "unknown": 1}, "settings": settings}
    assert list(run_options(recorded))[:3] == ["preset", "task", "task_size"]
    assert "unknown" not in run_options(recorded)
    # A model from before run records: its data, and the columns it was read with then.
    old = {"data": {"file": "pairs.tsv", "format": "auto", "source_lang": None, "source_column": 1,
                    "target_column": 0}, "settings": settings}
    assert {k: v for k, v in run_options(old).items() if k in ("data", "format", "source_column", "target_column")} \
        == {"data": "pairs.tsv", "source_column": 1, "target_column": 0}
    tatoeba = {"data": {"file": "train.tsv", "format": "auto", "source_lang": "spa", "source_column": 1,
                        "target_column": 0}, "settings": settings}
    chosen = run_options(tatoeba)
    assert chosen["source_lang"] == "spa" and "source_column" not in chosen
    assert run_options({"data": {"task": "dates", "train_pairs": 500}, "settings": settings})["task_size"] == 500


def test_the_chinese_script_conversion_is_an_option_per_side():
    settings = apply(preset("tatoeba-small"), {"source_convert": "t2s"})
    assert settings.text.source_tokenizer["convert"] == "t2s" and "convert" not in settings.text.target_tokenizer
    options = options_of(settings)
    assert (options["source_convert"], options["target_convert"]) == ("t2s", "none")
    assert options["source_tokenizer"] == "word"  # the rest is still shared: a kind per side
    assert "convert" not in apply(settings, {"source_convert": "none"}).text.source_tokenizer
    assert options_of(preset("tatoeba-zh-en"))["source_convert"] == "t2s"


def test_a_batch_size_alone_asks_for_sentence_batches_whatever_the_preset_cuts():
    assert preset("tatoeba-small").train.batch_tokens == 2048  # the preset's token batches
    assert apply(preset("tatoeba-small"), {"batch_size": 64}).train.batch_tokens == 0
    assert apply(preset("tatoeba-small"), {"batch_size": 64, "batch_tokens": 1024}).train.batch_tokens == 1024
    assert apply(preset("tatoeba-small"), {"epochs": 3}).train.batch_tokens == 2048
    assert preset("tatoeba-small").updated(batch_size=64).train.batch_tokens == 0
    assert preset("tatoeba-small").updated(train__batch_size=64, batch_tokens=512).train.batch_tokens == 512
