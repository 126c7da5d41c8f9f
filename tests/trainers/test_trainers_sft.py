"""SFT: assistant-only labels, two training steps, checkpoints, LoRA, accelerate launch of the example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from trainers_testlib import REPO, finite_losses, require_train_extra

require_train_extra()

import torch  # noqa: E402

from trainers.data import load_trajectories, read_rows  # noqa: E402
from trainers.sft import PDBSFTConfig, build_sft_trainer  # noqa: E402
from trainers.tokenizer import trl_chat_template  # noqa: E402


def sft_args(tmp_path, **overrides) -> PDBSFTConfig:
    kwargs = dict(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        dataloader_num_workers=0,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=1,
        logging_steps=1,
        seed=0,
    )
    kwargs.update(overrides)
    return PDBSFTConfig(**kwargs)


def test_recipe_defaults():
    args = PDBSFTConfig(output_dir="x", use_cpu=True)
    assert args.learning_rate == 1e-5 and args.num_train_epochs == 2
    assert args.per_device_train_batch_size * args.gradient_accumulation_steps == 8
    assert args.max_length == 23000
    assert args.gradient_checkpointing and args.assistant_only_loss
    assert args.bf16 is (torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def expected_assistant_text(message: dict) -> str:
    """What Qwen3 emits for one assistant turn: thinking block, content, tool calls, end of turn."""
    content = message.get("content") or ""
    reasoning = ""
    if "</think>" in content:
        reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
        content = content.split("</think>")[-1].lstrip("\n")
    text = "<think>\n" + reasoning.strip("\n") + "\n</think>\n\n" + content.lstrip("\n")
    for n, call in enumerate(message.get("tool_calls") or []):
        if n > 0 or content:
            text += "\n"
        arguments = json.loads(call["function"]["arguments"])
        text += '<tool_call>\n{"name": "' + call["function"]["name"] + '", "arguments": '
        text += json.dumps(arguments, ensure_ascii=False) + "}\n</tool_call>"
    return text + "<|im_end|>\n"


def test_labels_cover_exactly_the_assistant_turns(trajectories_path, tokenizer, tiny_model, tmp_path):
    rows = [0, 1]  # a plain trajectory and one with thinking and two calls in one turn
    ds = load_trajectories(trajectories_path).select(rows)
    trainer = build_sft_trainer(tiny_model, tokenizer, ds, args=sft_args(tmp_path, max_length=None))
    assert trainer.chat_template == trl_chat_template("qwen3_training")  # TRL's {% generation %} template

    im_start, im_end = tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
    cue = tokenizer.encode("assistant\n", add_special_tokens=False)
    newline = tokenizer.encode("\n", add_special_tokens=False)
    assert len(newline) == 1
    raw_rows = read_rows(trajectories_path)
    for n, row_index in enumerate(rows):
        example = trainer.train_dataset[n]
        ids, labels = example["input_ids"], example["labels"]
        assert len(ids) == len(labels)

        # Expected positions, from the token ids alone: after each "<|im_start|>assistant\n"
        # up to and including the next "<|im_end|>" and the newline after it.
        expected = [False] * len(ids)
        spans = []
        for i, token in enumerate(ids):
            if token == im_start and ids[i + 1 : i + 1 + len(cue)] == cue:
                start = i + 1 + len(cue)
                end = ids.index(im_end, start) + 1
                assert ids[end] == newline[0]
                spans.append((start, end + 1))
                for k in range(start, end + 1):
                    expected[k] = True
        labelled = [label != -100 for label in labels]
        assert labelled == expected
        assert all(labels[k] == ids[k] for k in range(len(ids)) if labelled[k])

        # And the labelled spans are exactly the assistant turns of the conversation.
        assistant = [m for m in raw_rows[row_index]["messages"] if m["role"] == "assistant"]
        assert len(spans) == len(assistant)
        for (start, end), message in zip(spans, assistant, strict=True):
            assert tokenizer.decode(ids[start:end]) == expected_assistant_text(message)
        # Nothing from the tools, the user or the system is labelled.
        masked_text = tokenizer.decode([t for t, keep in zip(ids, labelled, strict=True) if not keep])
        assert "<tool_response>" not in tokenizer.decode([t for t, keep in zip(ids, labelled, strict=True) if keep])
        assert masked_text.count("<tool_response>") == sum(m["role"] == "tool" for m in raw_rows[row_index]["messages"])


def short_rows(ds):
    """The rows without their tool schemas, so that 256 tokens reach into the assistant turns."""
    return ds.map(lambda row: {"tools": []})


def test_two_steps_and_checkpoint(trajectories_path, tokenizer, tiny_model, tmp_path, completion_only_lm_head):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ds = short_rows(load_trajectories(trajectories_path))
    args = sft_args(tmp_path, max_length=256, max_steps=2, save_strategy="steps", save_steps=2)
    trainer = build_sft_trainer(tiny_model, tokenizer, ds, args=args)
    before = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    trainer.train()
    losses = finite_losses(trainer.state.log_history)
    assert len(losses) == 2 and trainer.state.global_step == 2
    assert any(not torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())

    checkpoint = Path(args.output_dir) / "checkpoint-2"
    assert (checkpoint / "model.safetensors").is_file() and (checkpoint / "trainer_state.json").is_file()
    final = tmp_path / "final"
    trainer.save_model(str(final))
    tokenizer.save_pretrained(str(final))
    for folder in (checkpoint, final):
        reloaded = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        trained = trainer.model.state_dict()
        for key, value in reloaded.state_dict().items():
            assert torch.equal(value, trained[key]), key
    reloaded_tokenizer = AutoTokenizer.from_pretrained(final)
    assert reloaded_tokenizer.chat_template == tokenizer.chat_template == trl_chat_template("qwen3")
    inputs = tokenizer("def f(x):\n    return x", return_tensors="pt")
    reloaded.eval()
    trainer.model.eval()
    with torch.no_grad():
        assert torch.allclose(reloaded(**inputs).logits, trainer.model(**inputs).logits, atol=1e-5)


def test_lora_step(trajectories_path, tokenizer, tiny_model, tmp_path, completion_only_lm_head):
    from peft import LoraConfig, PeftModel

    ds = short_rows(load_trajectories(trajectories_path).select([0, 1]))
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    args = sft_args(tmp_path, max_length=256, max_steps=1, gradient_checkpointing=False)
    trainer = build_sft_trainer(tiny_model, tokenizer, ds, args=args, peft_config=lora)
    assert isinstance(trainer.model, PeftModel)
    trainable = {n for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    trainer.train()
    finite_losses(trainer.state.log_history)
    trainer.save_model(str(tmp_path / "adapter"))
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()


def test_accelerate_launch_of_the_example(trajectories_path, tmp_path):
    out = tmp_path / "run"
    rows = tmp_path / "rows.jsonl"  # without tool schemas, so that a short max_length reaches the assistant turns
    rows.write_text("".join(json.dumps({**row, "tools": []}) + "\n" for row in read_rows(trajectories_path)))
    config = tmp_path / "sft.yaml"
    config.write_text(
        "\n".join(
            [
                "model_name_or_path: random-qwen3:tiny",
                f"train_files: [{rows}]",
                "max_tokens: 100000",
                "max_length: 384",
                "max_steps: 1",
                "per_device_train_batch_size: 1",
                "gradient_accumulation_steps: 1",
                "gradient_checkpointing: false",
                "bf16: false",
                "use_cpu: true",
                "save_strategy: 'no'",
                "dataloader_num_workers: 0",
                f"output_dir: {out}",
            ]
        )
        + "\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "2"}
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(REPO / "examples" / "accelerate" / "cpu.yaml"),
        str(REPO / "examples" / "sft_qwen3.py"), "--config", str(config),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    log = proc.stdout + proc.stderr
    assert "'loss'" in log and "'train_runtime'" in log, log[-3000:]
