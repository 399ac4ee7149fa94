# mmconvnextv2: `make install`, `make test`, `make demo` (README). Everything lives in .venv.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# every pip call holds torch, setuptools and mmcv at the versions that work together
PIPC := $(PIP) install -c constraints.txt
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install test test-fast demo install-minkowski lint clean-venv

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt setup.py tools/install/build_mmcv.sh tools/install/mmcv_ops.txt \
		$(wildcard mmconvnextv2/ops/csrc/*.cpp)
	test -x $(PY) || python3 -m venv $(VENV)
	# torch first: mmcv's ops are compiled against it. On this machine both wheels are local.
	$(PIPC) torch==2.14.1 torchvision==0.29.1
	# the OpenMMLab packages and the rest (none of them pulls mmcv in: it is built next)
	$(PIPC) -r requirements.txt -r requirements-dev.txt
	# mmcv 2.1.0 with the compiled ops we use (tools/install/mmcv_ops.txt: RoIAlign, nms), built
	# once and cached; MMCV_OPS=all compiles all of them (~15 min more); see the script
	$(PIPC) "setuptools>=77,<81" wheel
	bash tools/install/build_mmcv.sh $(PY)
	# our own compiled CPU operators (mmconvnextv2/ops/csrc, ~1 min) are built here too
	$(PIPC) --no-deps --no-build-isolation -e .
	$(PY) -c "import mmconvnextv2, mmdet, mmseg, mmcv.ops; print('mmconvnextv2 installed')"
	$(PY) -c "from mmconvnextv2.ops import ops_available as a, ops_import_error as e; \
		assert a(), f'mmconvnextv2._ext was not built: {e()}'"
	touch $(STAMP)

# The whole suite, the end-to-end tests marked `slow` included (CI runs this).
test: install
	$(PY) -m pytest tests $(PYTEST_ARGS)

# Without the `slow` end-to-end tests, for quick iterations.
test-fast: install
	$(PY) -m pytest tests -m "not slow" $(PYTEST_ARGS)

# The main job on the embedded demo data: pretrain, transfer, evaluate (<= 15 min on 2 cores)
demo: install
	$(PY) tools/demo.py $(DEMO_ARGS)

# MinkowskiEngine 0.5.4, CPU-only, for sparse_backend='minkowski' (optional; ~9 minutes)
install-minkowski: install
	bash tools/install/build_minkowski.sh $(PY)

lint: install
	$(PY) -m ruff check mmconvnextv2 tools tests configs

clean-venv:
	rm -rf $(VENV)
