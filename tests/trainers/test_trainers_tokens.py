"""What GRPO trains on, token for token: multi-turn Qwen3 episodes with real pdb output.

A scripted "model" (canned token ids in place of sampling) plays episodes in
real gym-pdb environments through ``PDBGRPOTrainer``: several tool calls in a
turn, pdb printing long output with escapes, tabs, ANSI codes, CJK text and
tags, with Qwen3 thinking on and off. The checks:

- the completion ids are exactly the generated ids, each followed by the
  tool-response ids the chat template renders for that turn's tool messages;
- every generated token has mask 1, every tool/template token mask 0;
- rendering the whole conversation with the training template (what SFT uses)
  gives the rollout's ids, and its assistant-only labels are the rollout's
  mask, except for two documented differences that generation never meets:
  the newline after each ``<|im_end|>`` and, thinking off, the empty
  ``<think>`` block that the generation prompt holds are labelled in SFT;
- the original Qwen3 template (what an inference server renders) drops the
  empty think blocks of earlier turns: the drift GRPO avoids by never
  re-rendering, and which this test pins down.
"""

from __future__ import annotations

import json

import pytest
from trainers_testlib import SHARED_DATA, require_train_extra

require_train_extra()

from trainers.grpo import GRPOTaskArguments, PDBGRPOConfig, build_grpo_trainer  # noqa: E402
from trainers.tokenizer import trl_chat_template  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "mini_nightmare").is_dir(), reason="needs the suite data (GYM_PDB_DATA)"
)

# pdb's `p` evaluates the literal: its repr comes back with escapes, quotes, tabs, ANSI codes, CJK, tags.
ODD = r"""'tab\there \x1b[31mred\x1b[0m é 中文 ✓ \\ "q" {braces} </tool_response> <tool_call> \u2028'"""
LONG = "pp [f'line {i}:\\t{chr(0x4e00 + i)} \\\\n' for i in range(150)]"


def call(name: str, **arguments: object) -> dict:
    return {"name": name, "arguments": arguments}


# Each turn: (reasoning or None, content, [calls]). The last turn has no call and ends the episode.
TURNS = [
    ("Run the tests under pdb.", "", [call("pdb", command="start", runner="pytest", file="test.py"), call("pdb", command=f"p {ODD}")]),
    (None, "Now a long listing.", [call("pdb", command=LONG)]),
    ("", "", [call("view", path="config_code.py", start=1, end=12), call("grep", pattern="def "), call("eval")]),
    ("Enough.", "I could not fix it in this test.", []),
]


def canonical_text(reasoning: str | None, content: str, calls: list[dict], thinking: bool) -> str:
    """The assistant turn as Qwen3 writes it (and its chat template renders it): what the script "generates"."""
    text = ""
    if thinking:
        text = "<think>\n" + (reasoning or "") + "\n</think>\n\n"
    text += content
    for n, c in enumerate(calls):
        if n > 0 or content:
            text += "\n"
        text += '<tool_call>\n{"name": "' + c["name"] + '", "arguments": ' + json.dumps(c["arguments"], ensure_ascii=False) + "}\n</tool_call>"
    return text + "<|im_end|>"


def assistant_message(reasoning: str | None, content: str, calls: list[dict], thinking: bool) -> dict:
    message: dict = {"role": "assistant", "content": content}
    if thinking:
        message["reasoning_content"] = reasoning or ""
    if calls:
        message["tool_calls"] = [{"type": "function", "function": c} for c in calls]
    return message


def run_episode(tokenizer, model, tmp_path, thinking: bool):
    """One GRPO batch of two identical scripted episodes; returns (trainer output, generated ids, envs, trainer)."""
    generated: list[list[list[int]]] = [[], []]
    texts = [canonical_text(*turn, thinking=thinking) for turn in TURNS]

    def scripted(prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        outputs = []
        for n, ids in enumerate(prompt_ids):
            row = n if len(prompt_ids) == 2 else 0
            turn = tokenizer.decode(ids).count("<|im_start|>assistant") - 1
            out = tokenizer.encode(texts[turn], add_special_tokens=False)
            generated[row].append(out)
            outputs.append(out)
        return outputs, None

    args = PDBGRPOConfig(
        output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, use_vllm=False, max_steps=1,
        per_device_train_batch_size=2, num_generations=2, max_completion_length=16384,
        max_tool_calling_iterations=10, gradient_checkpointing=False, save_strategy="no", seed=0,
    )  # fmt: skip
    trainer = build_grpo_trainer(
        model,
        tokenizer,
        ["PDB-MiniNightmare-v0:config"],
        args=args,
        task_args=GRPOTaskArguments(tool_workers=2, enable_thinking=thinking),
    )
    trainer._generate_single_turn = scripted
    rows = [trainer.train_dataset[0]] * 2
    output = trainer._generate_and_score_completions(rows)
    return output, generated, trainer


def unpadded(output, row: int) -> tuple[list[int], list[int], list[int]]:
    prompt = [t for t, m in zip(output["prompt_ids"][row].tolist(), output["prompt_mask"][row].tolist(), strict=True) if m]
    length = int(output["completion_mask"][row].sum())
    return prompt, output["completion_ids"][row][:length].tolist(), output["tool_mask"][row][:length].tolist()


def conversation(prompt_text: str, env, thinking: bool) -> list[dict]:
    """The episode as chat messages: system, the user turn with the task prompt, assistant and tool turns."""
    from trainers.env import SYSTEM_PROMPT

    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt_text}]
    history = iter(env.history)
    for reasoning, content, calls in TURNS:
        messages.append(assistant_message(reasoning, content, calls, thinking))
        for c in calls:
            name, _arguments, observation = next(history)
            assert name == c["name"]
            messages.append({"role": "tool", "name": name, "content": observation})
    return messages


@pytest.mark.parametrize("thinking", [True, False], ids=["thinking", "no-thinking"])
def test_grpo_trains_on_exactly_the_generated_tokens(tokenizer, tiny_model, tmp_path, thinking):
    output, generated, trainer = run_episode(tokenizer, tiny_model, tmp_path, thinking)
    try:
        envs = trainer.environments
        tools = trainer.tools or None
        for row in range(2):
            prompt, ids, mask = unpadded(output, row)
            gens = generated[row]
            assert len(gens) == len(TURNS)
            # 1. completion = gen_1 + suffix_1 + gen_2 + ... + gen_n; the suffixes are the template's tool turns.
            pos, calls_seen = 0, 0
            history = envs[row].history
            for turn, gen in enumerate(gens):
                assert ids[pos : pos + len(gen)] == gen, turn
                assert all(m == 1 for m in mask[pos : pos + len(gen)]), turn  # the model's tokens are trained on
                pos += len(gen)
                calls = TURNS[turn][2]
                if not calls:
                    break
                tool_messages = [
                    {"role": "tool", "name": name, "content": observation}
                    for name, _a, observation in history[calls_seen : calls_seen + len(calls)]
                ]
                calls_seen += len(calls)
                suffix = trainer._get_tool_suffix_ids(tool_messages)
                assert ids[pos : pos + len(suffix)] == suffix, turn
                assert all(m == 0 for m in mask[pos : pos + len(suffix)]), turn  # tool tokens never are
                text = tokenizer.decode(suffix)
                assert text.startswith("\n<|im_start|>user\n<tool_response>\n")
                assert text.endswith("<|im_start|>assistant\n" + ("" if thinking else "<think>\n\n</think>\n\n"))
                assert text.count("<tool_response>") == len(calls)
                pos += len(suffix)
            assert pos == len(ids)
            observed = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m == 0])
            # The sandbox's pdb writes non-ASCII as escapes (\\u4e2d); escapes, quotes and tags pass through as text.
            assert "\\x1b[31mred" in observed and "\\u4e2d\\u6587" in observed and "line 149:" in observed
            # Text in a tool output that spells a special token ("</tool_response>", "<tool_call>" in ODD) is
            # tokenised as that token, as it is at inference (chat templates do not escape): the model sees it in
            # its context, but it stays masked out of the loss.
            closing, opening = tokenizer.convert_tokens_to_ids(["</tool_response>", "<tool_call>"])
            masked = [t for t, m in zip(ids, mask, strict=True) if m == 0]
            assert masked.count(closing) == sum(len(t[2]) for t in TURNS) + 1
            assert masked.count(opening) == 1

            # 2. The same conversation rendered with the training template (SFT's) gives the rollout's ids.
            prompt_text = tokenizer.decode(prompt).split("<|im_start|>user\n", 1)[1].split("<|im_end|>")[0]
            messages = conversation(prompt_text, envs[row], thinking)
            rendered = tokenizer.apply_chat_template(
                messages, tools=tools, chat_template=trl_chat_template("qwen3_training"), tokenize=True,
                return_dict=True, return_assistant_tokens_mask=True, enable_thinking=thinking,
            )  # fmt: skip
            assert rendered["input_ids"] == prompt + ids + tokenizer.encode("\n", add_special_tokens=False)
            # SFT's assistant-only labels: the rollout's mask, but for the empty think blocks with thinking off.
            labels = rendered["assistant_masks"][len(prompt) : len(prompt) + len(ids)]
            think_off = tokenizer.encode("<think>\n\n</think>\n\n", add_special_tokens=False)
            expected = list(mask)
            # The training template's {% generation %} span ends after "<|im_end|>\n"; at rollout that newline
            # opens the tool suffix (mask 0). SFT teaches one token more, which generation stops before.
            im_end, newline = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.encode("\n")[0]
            for k in range(1, len(ids)):
                if ids[k - 1] == im_end and mask[k - 1] == 1 and ids[k] == newline:
                    expected[k] = 1
            if not thinking:
                # The generation prompt holds "<think>\n\n</think>\n\n": in the prompt or tool suffix at rollout
                # (mask 0), inside the assistant turn for SFT (label 1). Harmless: a template with thinking off
                # always writes that block itself, so the model is never asked to produce it.
                for k in range(len(ids)):
                    if ids[k : k + len(think_off)] == think_off:
                        expected[k : k + len(think_off)] = [1] * len(think_off)
                first = rendered["assistant_masks"][len(prompt) - len(think_off) : len(prompt)]
                assert prompt[-len(think_off) :] == think_off and all(first)
            assert labels == expected

            # 3. The original template (an inference server's) drops the empty think block of every earlier
            # assistant turn (all of them, thinking off). GRPO never re-renders, so it trains on what was
            # generated; a server that re-renders the history shows the model a slightly different context.
            original = tokenizer.apply_chat_template(
                messages, tools=tools, chat_template=trl_chat_template("qwen3"), tokenize=True, return_dict=False,
                enable_thinking=thinking,
            )  # fmt: skip
            empty = sum(not (thinking and reasoning) for reasoning, _c, _k in TURNS[:-1])
            assert empty == (2 if thinking else 3)
            assert len(rendered["input_ids"]) - len(original) == empty * len(think_off)
            assert tokenizer.decode(original) == tokenizer.decode(rendered["input_ids"]).replace(
                "<|im_start|>assistant\n<think>\n\n</think>\n\n", "<|im_start|>assistant\n", empty
            )
    finally:
        trainer.close_environments()


def test_non_canonical_generations_are_kept_as_generated(tokenizer, tiny_model, tmp_path):
    """A turn the template would write differently (escaped JSON, no blank line after </think>) stays as generated.

    Re-rendering would change such a turn's ids, so GRPO must (and does) train on the ids the model sampled.
    """
    odd = '<think>\nx\n</think>\n<tool_call>\n{"name": "eval", "arguments": {"note": "\\u00e9"}}\n</tool_call><|im_end|>'
    canon = canonical_text("x", "", [call("eval", note="é")], thinking=True)
    assert tokenizer.encode(odd, add_special_tokens=False) != tokenizer.encode(canon, add_special_tokens=False)
    sent = []

    def scripted(prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        turn = tokenizer.decode(prompt_ids[0]).count("<|im_start|>assistant") - 1
        text = odd if turn == 0 else "<think>\n\n</think>\n\nDone.<|im_end|>"
        out = [tokenizer.encode(text, add_special_tokens=False) for _ in prompt_ids]
        sent.append(out[0])
        return out, None

    args = PDBGRPOConfig(
        output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, use_vllm=False, max_steps=1,
        per_device_train_batch_size=2, num_generations=2, max_completion_length=4096,
        max_tool_calling_iterations=4, gradient_checkpointing=False, save_strategy="no", seed=0,
    )  # fmt: skip
    trainer = build_grpo_trainer(
        tiny_model, tokenizer, ["PDB-MiniNightmare-v0:config"], args=args, task_args=GRPOTaskArguments(tool_workers=2)
    )
    trainer._generate_single_turn = scripted
    try:
        output = trainer._generate_and_score_completions([trainer.train_dataset[0]] * 2)
        _prompt, ids, mask = unpadded(output, 0)
        assert ids[: len(sent[0])] == sent[0] and all(mask[: len(sent[0])])
        assert ids[-len(sent[-1]) :] == sent[-1] and all(mask[-len(sent[-1]) :])
        # The call was parsed from the escaped JSON (its argument decoded), then the final test run followed.
        assert [(name, a) for name, a, _o in trainer.environments[0].history] == [("eval", {"note": "é"}), ("eval", {})]
    finally:
        trainer.close_environments()
