"""Shared test set-up: JAX unless the run asks otherwise, and quiet logs."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
