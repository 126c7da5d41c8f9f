"""gym-pdb tools as methods of a TRL environment, derived from their schemas.

TRL's ``environment_factory`` offers the model every public method of the
environment, and turns each method's signature and Google-style docstring into
the JSON schema the model sees (``transformers.utils.get_json_schema``). The
methods made here have exactly the signature and docstring that give back the
tool's own schema, so a registered tool needs no hand-written method, and the
schema of GRPO is the one of ``gym-pdb eval`` and of the SFT trajectories.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["JSON_TYPES", "docstring", "tool_method"]

#: JSON schema types as the Python hints ``get_json_schema`` maps back to them.
JSON_TYPES: dict[str, type] = {
    "string": str, "integer": int, "number": float, "boolean": bool, "array": list, "object": dict,
}  # fmt: skip


def docstring(schema: Mapping[str, Any]) -> str:
    """A Google-style docstring that ``get_json_schema`` turns back into ``schema`` (enums as ``(choices: [...])``)."""
    fn = schema["function"]
    lines = [fn["description"].strip()]
    props = fn.get("parameters", {}).get("properties", {})
    if props:
        lines += ["", "Args:"]
        for name, prop in props.items():
            desc = " ".join(str(prop.get("description", name)).split())
            if "enum" in prop:
                desc += " (choices: [" + ", ".join(f'"{c}"' for c in prop["enum"]) + "])"
            lines.append(f"    {name}: {desc}")
    return "\n".join(lines)


def tool_method(schema: Mapping[str, Any]) -> Callable[..., str]:
    """A method ``name(self, *, arg...)`` that runs the tool through ``self._step(name, arguments)``.

    The arguments are keyword-only (TRL calls tools with keywords), so a
    required one may follow optional ones in the schema's order. Optional
    arguments default to None and are hinted without ``| None``, and there is no
    return hint: ``get_json_schema`` then yields the schema exactly (no
    ``nullable``, no ``return``). Arguments the signature does not name still
    reach the env, which says what is wrong with them, as it does for JSON actions.
    """
    fn = schema["function"]
    name = fn["name"]
    parameters = fn.get("parameters", {})
    required = set(parameters.get("required", ()))
    hints: dict[str, Any] = {}
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for arg, prop in parameters.get("properties", {}).items():
        kinds = prop.get("type", "string")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        # A nullable type (SWE-PDB's ["number", "null"]) is an optional argument of its other type: TRL's
        # get_json_schema has no way to say "required but may be null".
        hints[arg] = JSON_TYPES.get(next((k for k in kinds if k != "null"), "string"), str)
        default = inspect.Parameter.empty if arg in required and "null" not in kinds else None
        params.append(inspect.Parameter(arg, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hints[arg]))

    def method(self: Any, **arguments: Any) -> str:
        return self._step(name, arguments)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = docstring(schema)
    method.__annotations__ = hints
    method.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return method
