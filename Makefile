# The two commands of the README. Both create .venv and install everything they need.
PY := .venv/bin/python
PIP := .venv/bin/pip

.PHONY: demo test install bench docs clean

.venv/.installed: pyproject.toml
	python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test]'
	touch .venv/.installed

install: .venv/.installed

demo: .venv/.installed
	$(PY) -m nar.demo

test: .venv/.installed
	$(PY) -m pytest -n 2

# The documentation site (MkDocs + mkdocstrings): built into site/, warnings are errors.
.venv/.docs: .venv/.installed pyproject.toml
	$(PIP) install -q -e '.[test,docs]'
	touch .venv/.docs

docs: .venv/.docs
	NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir site

bench: .venv/.installed
	$(PY) benchmarks/sampler.py

clean:
	rm -rf .venv build *.egg-info demo_out site
