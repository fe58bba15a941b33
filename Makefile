# The two commands of the README: `make demo` (main job on the built-in data) and `make test`.
# Both first install whatever is missing into .venv (scripts/install_env.sh, idempotent).
PY := .venv/bin/python
SYNTHETIC_CITYSCAPES := data/synthetic/cityscapes

.PHONY: env demo test data

env:
	bash scripts/install_env.sh

data: env
	@if [ ! -d $(SYNTHETIC_CITYSCAPES)/leftImg8bit ]; then \
		$(PY) tools/make_synthetic_data.py cityscapes --out $(SYNTHETIC_CITYSCAPES) --seed 0; \
	fi

demo: data
	$(PY) tools/run_recipe.py $(RECIPE_ARGS)

test: env
	$(PY) -m pytest tests -q $(PYTEST_ARGS)
