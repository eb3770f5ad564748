"""attn_lib.display: show_source shows the code the chapter runs, as Markdown and as text."""

import pytest

import attn_lib
from attn_lib.display import show_source
from attn_lib.models import GRUDecoder


def test_show_source_of_a_method_is_its_dedented_code_as_a_python_block():
    shown = show_source(GRUDecoder.step)
    assert shown.text.startswith("def step(self, token, state,")
    assert "self.additive(" in shown.text  # the code the chapter runs, not a summary
    markdown = shown._repr_markdown_()
    assert markdown.startswith("```python\ndef step(") and markdown.endswith("\n```")
    assert repr(shown) == shown.text


def test_show_source_of_a_bound_method_and_of_a_class():
    layer = attn_lib.DotProductAttention()
    assert show_source(layer.score).text.startswith("def score(self, queries, keys):")
    assert show_source(attn_lib.AttentionLayer).text.startswith("class AttentionLayer(")


@pytest.mark.parametrize("obj", [len, 3, attn_lib.DotProductAttention()])
def test_show_source_of_something_without_python_source_is_named(obj):
    with pytest.raises(TypeError, match=r"`obj` must be a function, class or method"):
        show_source(obj)
