# The two commands of the README: `make demo` (the whole recipe on the built-in synthetic data)
# and `make test`. Both first install whatever is missing into .venv (scripts/install_env.sh).
PY := .venv/bin/python

.PHONY: env demo test

env:
	bash scripts/install_env.sh

demo: env
	$(PY) tools/demo.py $(DEMO_ARGS)

test: env
	$(PY) -m pytest tests -q $(PYTEST_ARGS)
