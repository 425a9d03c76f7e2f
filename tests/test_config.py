"""lfo_ray.config: the field documentation `lfo list ALGO` prints."""

from __future__ import annotations

import dataclasses

from lfo_ray import algorithms
from lfo_ray.algorithms.bc.config import BCConfig
from lfo_ray.algorithms.dagger.config import DAggerConfig
from lfo_ray.config import field_docs, first_sentence


def test_field_docs_read_the_docstring_under_each_field_through_the_mro():
    docs = field_docs(DAggerConfig)
    assert docs["lr"] == "Adam learning rate."  # inherited from BCConfig
    assert set(docs) == {f.name for f in dataclasses.fields(DAggerConfig)}
    assert field_docs(BCConfig)["hidden"].startswith("Hidden layer widths of the policy network;")


def test_first_sentence_joins_wrapped_lines_and_keeps_inner_dots():
    assert first_sentence("Rate of 0.5 per\n    step. More detail.") == "Rate of 0.5 per step."
    assert first_sentence("No full stop") == "No full stop"


def test_every_registered_config_field_is_documented():
    missing = {name: sorted({f.name for f in dataclasses.fields(algorithms.get(name).config_cls)}
                            - set(field_docs(algorithms.get(name).config_cls)))
               for name in algorithms.names()}
    assert not {name: fields for name, fields in missing.items() if fields}
