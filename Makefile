# The two commands of the README. Both create .venv and install everything they need.
PY := .venv/bin/python
PIP := .venv/bin/pip

.PHONY: demo test install bench clean

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

bench: .venv/.installed
	$(PY) benchmarks/sampler.py

clean:
	rm -rf .venv build *.egg-info demo_out
