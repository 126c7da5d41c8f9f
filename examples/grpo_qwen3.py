"""GRPO of Qwen3 on live gym-pdb episodes (trl.GRPOTrainer, vLLM generation).

One GPU, vLLM colocated with training:
    accelerate launch --config_file examples/accelerate/single_gpu.yaml \
        examples/grpo_qwen3.py --config examples/configs/grpo_qwen3_4b.yaml
FSDP on 4 GPUs:
    accelerate launch --config_file examples/accelerate/fsdp_4gpu.yaml \
        examples/grpo_qwen3.py --config examples/configs/grpo_qwen3_14b.yaml
vLLM on its own GPU (server mode): start `trl vllm-serve --model <model>` there (or the compose
`vllm` service with that command), then add `--vllm_mode server --vllm_server_base_url http://HOST:8000`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from trainers.grpo import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
