# The two set-up commands of the README:
#   make eval         the main job on the embedded defaults (local sandbox)
#   make test         the whole test suite (installs and starts what it needs)
#   (make quickstart prints one scripted episode)
#
# The venv is made from the system's Python (/usr/bin/python3 where it exists):
# the local sandbox runs task code as an unprivileged uid, which must be able
# to reach the interpreter (an interpreter under /root is out of its reach).

PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
VENV ?= $(shell bash scripts/venv-dir.sh)
# The suites' data: ../shared/data/swe-pdb beside this checkout, else beside the
# local checkout it was cloned from (a clone made in a scratch folder).
ORIGIN := $(shell git config --get remote.origin.url 2>/dev/null)
SHARED_DATA := $(firstword $(wildcard $(abspath $(CURDIR)/../shared/data/swe-pdb) \
	$(if $(filter /%,$(ORIGIN)),$(abspath $(ORIGIN)/../shared/data/swe-pdb))))
export GYM_PDB_DATA ?= $(SHARED_DATA)
# SWE-PDB's agent framework (the swe-pdb profile reads its texts), found the same way.
SWE_PDB_AGENT := $(firstword $(wildcard $(abspath $(CURDIR)/../shared/reference/swe-pdb-agent) \
	$(if $(filter /%,$(ORIGIN)),$(abspath $(ORIGIN)/../shared/reference/swe-pdb-agent))))
ifneq ($(SWE_PDB_AGENT),)
export GYM_PDB_SWE_PDB_AGENT ?= $(SWE_PDB_AGENT)
endif

.PHONY: quickstart eval test bench venv

TEST_EXTRAS := dev,train,agents

# $(VENV)/.ready-EXTRAS: the venv with the package installed (editable) with those extras.
$(VENV)/.ready-%: setup.cfg pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e ".$(if $(filter base,$*),,[$*])"
	@touch $@

venv: $(VENV)/.ready-base

quickstart: $(VENV)/.ready-base
	$(VENV)/bin/python examples/quickstart.py

eval: $(VENV)/.ready-base
	$(VENV)/bin/gym-pdb eval --env PDB-Synthetic-v0 --agent expert --tasks 20

test: $(VENV)/.ready-$(TEST_EXTRAS)
	bash scripts/test.sh $(VENV)

bench: $(VENV)/.ready-dev
	$(VENV)/bin/python benchmarks/bench_env.py
