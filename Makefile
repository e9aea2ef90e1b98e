# Two entry points for a fresh machine; each installs what it needs by itself.
#   make demo   ingest the sample ILO listings and show what the pool holds
#   make test   lint, type-check, and run the whole suite on SQLite and on a throwaway PostgreSQL

VENV := .venv
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.testing

.PHONY: demo test lint bench golden clean

# The demo needs the package and what it runs on; the tests also need their tools.
$(RUNTIME): pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh runtime
	touch $@

$(STAMP): pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh test
	touch $@ $(RUNTIME)

demo: $(RUNTIME)
	scripts/demo.sh

test: $(STAMP)
	scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/pool_at_scale.py
	$(VENV)/bin/python benchmarks/near_duplicates.py
	$(VENV)/bin/python benchmarks/render_speed.py

# Rewrite tests/data/golden/ from the sample issues: only after a deliberate change of the theme.
golden: $(STAMP)
	NEWSLETTER_UPDATE_GOLDEN=1 $(VENV)/bin/pytest -q tests/render/test_render.py -k golden
	git status --short tests/data/golden

clean:
	rm -rf $(VENV) build newsletter.db newsletter.db-*
