import pytest

from keras_seq2seq.config import Settings, preset
from keras_seq2seq.errors import ConfigError
from keras_seq2seq.models import MaskedCrossEntropy


def test_partial_tokenizer_override_keeps_the_preset_kind():
    settings = preset("dates").updated(source_tokenizer={"lowercase": True})
    assert settings.text.source_tokenizer == {"kind": "char", "lowercase": True}
    assert settings.text.target_tokenizer == {"kind": "char"}


def test_round_trip_and_unknown_setting():
    settings = preset("tatoeba-small")
    assert Settings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ConfigError, match="unknown setting 'unitz'"):
        settings.updated(unitz=3)


@pytest.mark.parametrize("override, message", [
    ({"batch_size": 0}, "batch_size"),
    ({"epochs": -1}, "epochs"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"attention": "multihead"}, "attention must be one of"),
    ({"units": 15, "bidirectional": True}, "even number"),
    ({"dropout": 1.0}, "dropout"),
    ({"param_init": -0.1}, "param_init"),
])
def test_bad_values_are_refused_with_their_name(override, message):
    with pytest.raises(ConfigError, match=message):
        preset(None).updated(**override)


def test_loss_config_round_trip():
    loss = MaskedCrossEntropy(label_smoothing=0.1)
    again = MaskedCrossEntropy.from_config(loss.get_config())
    assert again.label_smoothing == 0.1
