"""Which lines are a function's header, and the refusal that names its body's first line."""

from __future__ import annotations

from gym_pdb.tools.def_lines import headers, refusal

SOURCE = '''import functools


@functools.cache
def f(
    a,
    b,
):
    """Adds."""
    return a + b


def one_liner(x): return x


class C:
    async def g(self):
        # a comment first
        @staticmethod
        def inner():
            pass
        return inner
'''


def test_headers_span_decorators_and_signatures_and_skip_docstrings():
    found = {h.function: (h.first, h.last, h.body) for h in headers(SOURCE)}
    assert found["f"] == (4, 8, 10)
    assert found["g"] == (17, 18, 19)
    assert found["inner"] == (19, 20, 21)
    assert "one_liner" not in found  # its line also runs at each call
    assert headers("def broken(:\n") == ()


def test_refusal_names_the_body_line_for_each_break_form():
    files = {"m.py": SOURCE}
    assert "b m.py:10" in refusal("b m.py:5", files, None)
    assert "b m.py:10" in refusal("break ./m.py:4", files, None)
    assert "b m.py:19" in refusal("tbreak m.py:17, self is not None", files, None)
    assert "b m.py:21" in refusal("b 20", files, "m.py")
    for allowed in ("b m.py:10", "b m.py:13", "b 20", "b other.py:4", "p 5", "b f"):
        assert refusal(allowed, files, None) is None, allowed
