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


@pytest.mark.parametrize("override, message", [
    ({"architecture": "cnn"}, "architecture must be one of"),
    ({"architecture": "transformer", "units": 30, "heads": 4}, "multiple of heads"),
    ({"heads": 0}, "heads"),
    ({"ffn_dim": -1}, "ffn_dim"),
    ({"decoder_layers": -2}, "decoder_layers"),
    ({"attention_dropout": 1.5}, "attention_dropout"),
    ({"positions": "rotary"}, "positions must be one of"),
    ({"share_embeddings": True}, "transformer option"),
    ({"architecture": "transformer", "share_embeddings": True}, "joint vocabulary"),
    ({"lr_schedule": "cosine"}, "lr_schedule must be one of"),
    ({"lr_schedule": "inverse-sqrt"}, "warmup_steps > 0"),
    ({"lr_schedule": "inverse-sqrt", "warmup_steps": 10, "plateau_patience": 2}, "plateau_patience"),
])
def test_bad_transformer_values_are_refused_with_their_name(override, message):
    with pytest.raises(ConfigError, match=message):
        preset("tatoeba-word").updated(**override)


def test_settings_saved_before_the_transformer_mean_the_rnn():
    saved = preset("tatoeba-small").to_dict()
    for name in ("architecture", "heads", "ffn_dim", "decoder_layers", "attention_dropout", "pre_norm",
                 "positions", "share_embeddings"):
        del saved["model"][name]
    del saved["train"]["lr_schedule"]
    settings = Settings.from_dict(saved)
    assert settings.model.architecture == "rnn"
    assert settings.train.lr_schedule == "constant"


@pytest.mark.parametrize("name", ["tatoeba-transformer", "transformer-base"])
def test_transformer_presets_share_one_joint_vocabulary(name):
    settings = preset(name)
    assert settings.model.architecture == "transformer"
    assert settings.text.joint_vocab and settings.model.share_embeddings and settings.model.tie_embeddings
    assert settings.train.lr_schedule == "inverse-sqrt" and settings.train.warmup_steps > 0
