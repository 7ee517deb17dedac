"""Serving trained models over HTTP: `seq2seq serve --model DIR`.

    app.py       routes, error responses and the page (FastAPI)
    batcher.py   dynamic batching: concurrent requests decoded together in one worker thread
    limits.py    the request schema, per-request limits and their 4xx errors
    registry.py  the loaded models and their descriptions
    static/      the page at `/` (plain HTML, CSS and JavaScript; no build step)

Importing this package imports FastAPI; `keras_seq2seq` itself does not import it.
"""

from keras_seq2seq.serving.app import create_app
from keras_seq2seq.serving.batcher import DynamicBatcher
from keras_seq2seq.serving.limits import Limits
from keras_seq2seq.serving.registry import load_models

__all__ = ["create_app", "DynamicBatcher", "Limits", "load_models"]
