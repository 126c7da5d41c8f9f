"""SFT of Qwen3 on gym-pdb debugging trajectories (trl.SFTTrainer).

One GPU:
    accelerate launch --config_file examples/accelerate/single_gpu.yaml \
        examples/sft_qwen3.py --config examples/configs/sft_qwen3_4b.yaml
FSDP on 2 GPUs (8B) / 4 GPUs (14B):
    accelerate launch --config_file examples/accelerate/fsdp_2gpu.yaml \
        examples/sft_qwen3.py --config examples/configs/sft_qwen3_8b.yaml
Any config value can be overridden on the command line (``--train_files a.jsonl b.parquet``,
``--gradient_accumulation_steps 2``, ``--use_peft --lora_r 64``...).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from trainers.sft import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
