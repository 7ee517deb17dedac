"""`seq2seq evaluate` on a dialogue model: the dialogue scores, chosen by the model's own record."""

import json

import pytest

from keras_seq2seq.cli import main

DIALOGUE_LINES = ("perplexity", "BLEU", "nrefs:1|case:mixed", "Distinct-1", "Distinct-2", "mean length",
                  "top-10 share", "BLEU tokenize    13a (detected: the references are not Chinese)")


@pytest.mark.slow
def test_a_dialogue_model_gets_dialogue_scores(dialogue_models, capsys):
    pairs, forward, reverse = dialogue_models
    assert json.loads((forward / "config.json").read_text())["data"]["dialogue"] == {"context_turns": 2}
    data = ["--data", str(pairs), "--format", "tsv", "--source-column", "0", "--target-column", "1"]
    capsys.readouterr()
    assert main(["evaluate", "--model", str(forward), *data, "--samples", "2", "--beam-size", "4",
                 "--length-penalty", "1.0", "--no-repeat-ngram", "2"]) == 0
    report = capsys.readouterr().out
    assert all(line in report for line in DIALOGUE_LINES) and "exact match" not in report
    assert main(["evaluate", "--model", str(forward), *data, "--beam-size", "4", "--mmi-model", str(reverse),
                 "--mmi-weight", "1.0", "--target-lang", "zh"]) == 0
    report = capsys.readouterr().out  # --target-lang reaches the dialogue scores too
    assert "Distinct-2" in report and "tok:zh" in report and "BLEU tokenize    zh (--target-lang zh)" in report
    # ten sampled replies per context, reranked by the reverse model: the other way to give MMI candidates
    assert main(["evaluate", "--model", str(forward), *data, "--sample", "--draws", "4", "--length-penalty", "1.0",
                 "--mmi-model", str(reverse), "--json", str(pairs.with_name("draws.json"))]) == 0
    assert "Distinct-2" in capsys.readouterr().out
    record = json.loads(pairs.with_name("draws.json").read_text())
    assert record["search"]["sampling"]["temperature"] > 0 and record["draws"] == 4
    assert record["mmi"] == {"model": str(reverse), "weight": 0.5}
    assert main(["evaluate", "--model", str(forward), *data, "--task-kind", "translation"]) == 0
    report = capsys.readouterr().out
    assert "exact match" in report and "Distinct-2" not in report


def test_mmi_needs_a_beam_or_draws(capsys):
    assert main(["evaluate", "--model", "m", "--data", "d.tsv", "--mmi-model", "r"]) == 2
    assert "give --beam-size 2 or more (e.g. 10), or --sample with --draws 2 or more" in capsys.readouterr().err
    assert main(["evaluate", "--model", "m", "--data", "d.tsv", "--mmi-model", "r", "--sample"]) == 2
    assert "give --draws 2 or more" in capsys.readouterr().err
    assert main(["evaluate", "--model", "m", "--data", "d.tsv", "--draws", "4"]) == 2
    assert "--draws 4 draws sampled replies: add --sample" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", "--model", "m", "--data", "d.tsv", "--sample", "--draws", "0"])
    assert "--draws must be at least 1, got 0" in capsys.readouterr().err
