"""Shared test set-up: JAX unless the run asks otherwise, and quiet logs."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Tests that start `seq2seq` processes leave the user's compile cache alone (test_compile_cache.py
# turns it on in a temporary directory).
os.environ.setdefault("SEQ2SEQ_COMPILE_CACHE", "off")
