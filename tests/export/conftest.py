"""Tiny models for the export tests: made in a second, exported, and decoded both ways."""

import pytest

from keras_seq2seq.data.tasks import task_splits


@pytest.fixture(scope="session")
def dates():
    return task_splits("dates", train=400, dev=10, test=60, seed=0)
