# Two entry points for a fresh machine; each installs what it needs by itself.
#   make demo   ingest the sample ILO listings and show what the pool holds
#   make test   lint, type-check, the whole suite on SQLite, the database tests on a throwaway PostgreSQL

VENV := .venv
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.testing

.PHONY: demo test lint bench golden screenshots clean

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
	NEWSLETTER_UPDATE_GOLDEN=1 $(VENV)/bin/pytest -q tests/render/test_render.py tests/test_editions.py -k golden
	git status --short tests/data/golden

clean:
	rm -rf $(VENV) build newsletter.db newsletter.db-*

# The README's pictures: the screenshots the last `make test` took, copied into docs/.
screenshots:
	cp "build/test-artifacts/test_no_horizontal_scrolling_and_every_title_visible[800-2020-11]/2020-11-800.png" docs/screenshots/email-800.png
	cp "build/test-artifacts/test_no_horizontal_scrolling_and_every_title_visible[320-2020-11]/2020-11-320.png" docs/screenshots/email-320.png
	cp build/test-artifacts/test_dark_mode_keeps_text_readable/dark-375.png docs/screenshots/email-dark-375.png
	cp "build/test-artifacts/test_an_edition_reads_in_its_language_and_axe_finds_nothing_serious[fr]/edition-fr-600.png" docs/screenshots/email-edition-fr-600.png
	cp build/test-artifacts/test_edition_pages_in_chromium_with_axe/archive-edition-fr.png docs/screenshots/archive-edition-fr.png
	cp build/test-artifacts/test_browse_both_issues_a_topic_and_search/issue-2020-11-375.png docs/screenshots/archive-issue-375.png
	cp "build/test-artifacts/test_pictures_fit_load_and_stack_from_phone_to_desktop[800]/pictures-800.png" docs/screenshots/email-pictures-800.png
	cp "build/test-artifacts/test_pictures_fit_load_and_stack_from_phone_to_desktop[320]/pictures-320.png" docs/screenshots/email-pictures-320.png
	cp build/test-artifacts/test_an_editor_makes_a_lead_and_reorders_with_the_keyboard_alone/studio-editor.png docs/screenshots/studio-editor.png
	cp "build/test-artifacts/test_axe_finds_nothing_serious_on_the_studio_pages[_pool?month=2020-11]/studio-pool.png" docs/screenshots/studio-pool.png
	cp build/test-artifacts/test_a_visitor_subscribes_with_the_keyboard_alone/public-subscribe-375.png docs/screenshots/public-subscribe-375.png
	cp "build/test-artifacts/test_axe_finds_nothing_serious_on_the_public_pages[preferences]/public-preferences.png" docs/screenshots/public-preferences.png
	cp build/test-artifacts/test_a_reader_subscribes_gets_the_issue_and_leaves_in_one_click/public-unsubscribe.png docs/screenshots/public-unsubscribe.png
	cp build/test-artifacts/test_the_archive_page_s_form_subscribes_through_the_public_pages/archive-subscribe-375.png docs/screenshots/archive-subscribe-375.png
