# egov — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_JS := node_modules/.installed
DIST := src/egov/static/egov/dist/app.css
PORT ?= 8000

.DEFAULT_GOAL := help

.PHONY: help
help: ## List every target
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(STAMP_PY): pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(STAMP_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(DIST): $(STAMP_JS) $(wildcard frontend/*.mjs frontend/*.js frontend/scss/*.scss)
	npm run --silent build

.PHONY: install
install: $(STAMP_PY) $(DIST) ## Install Python and front-end dependencies, build the front end

.PHONY: frontend
frontend: $(STAMP_JS) ## Rebuild the front end (GOV.UK Frontend + Sass)
	npm run --silent build

.PHONY: demo
demo: install ## Migrate, seed and serve the demo country on http://127.0.0.1:8000
	@tools/system-packages demo
	EGOV_DEMO=true EGOV_INSECURE_HTTP=true EGOV_BASE_URL=http://127.0.0.1:$(PORT) \
		EGOV_CENTRAL_URL=http://127.0.0.1:$(PORT) \
		EGOV_EMAIL_BACKEND=egov.demo.mailbox.EmailBackend \
		$(BIN)/egov demo --bind 127.0.0.1:$(PORT)

.PHONY: test
test: install ## Run the whole test suite (installs the Debian packages it needs when run as root)
	-@tools/system-packages test
	@if [ ! -x /usr/bin/chromium ]; then echo "NOTE: /usr/bin/chromium is missing, so the browser tests are SKIPPED (CI installs it and never skips them)."; fi
	@if [ ! -x /usr/sbin/nginx ]; then echo "NOTE: /usr/sbin/nginx is missing, so the nginx front tests (tests/deploy/) are SKIPPED (CI installs it and never skips them)."; fi
	@status=0; $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest ran no tests: that is a failure"; exit 1; fi; \
	exit $$status

.PHONY: lint
lint: install ## ruff, mypy and import-linter contracts
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: messages
messages: install ## Extract and compile translations (needs GNU gettext)
	cd src/egov && EGOV_DEMO=true ../../$(BIN)/django-admin makemessages --no-obsolete --no-location -l be -l ru -l en --settings=egov.settings
	cd src/egov && EGOV_DEMO=true ../../$(BIN)/django-admin compilemessages --settings=egov.settings

.PHONY: lock
lock: ## Re-resolve requirements/lock.txt from pyproject.toml
	$(BIN)/pip-compile --quiet --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --extra dev --output-file requirements/lock.txt pyproject.toml

.PHONY: lock-production
lock-production: ## Derive requirements/production.txt (no test or lint tools) from pyproject.toml at lock.txt's versions
	@tmp=$$(mktemp -d) && cp requirements/lock.txt $$tmp/production.txt && \
	CUSTOM_COMPILE_COMMAND="make lock-production" $(BIN)/pip-compile --quiet --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file $$tmp/production.txt pyproject.toml && \
	mv $$tmp/production.txt requirements/production.txt && rm -rf $$tmp

.PHONY: wheel
wheel: $(STAMP_PY) frontend ## Build the release into dist/: the wheel (front end included) and the sdist
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .

# EGOV_DEMO=true: the generated files do not depend on it, and it needs no production values.
.PHONY: config-docs
config-docs: install ## Regenerate docs/configuration.md and deploy/egov.env.example from the declared settings
	EGOV_DEMO=true $(BIN)/egov config-docs > docs/configuration.md
	EGOV_DEMO=true $(BIN)/egov config-docs --env > deploy/egov.env.example

.PHONY: definition-schema
definition-schema: ## Copy the service definition format's JSON Schema to docs/
	cp src/egov/catalog/schema/service-definition.schema.json docs/service-definition.schema.json

.PHONY: openapi
openapi: install ## Regenerate docs/openapi.yaml from the API code
	$(BIN)/egov spectacular --file docs/openapi.yaml --validate --fail-on-warn

.PHONY: bench-submit
bench-submit: install ## Benchmark submissions through the API (SQLite and PostgreSQL) and the queue page
	$(BIN)/python bench/submit.py

.PHONY: bench-portal
bench-portal: install ## Benchmark the portal pages against a bare hello view
	$(BIN)/python bench/portal.py

.PHONY: bench-exchange
bench-exchange: install ## Benchmark a registry service directly and through the gateway pair; registry at 1M persons
	$(BIN)/python bench/exchange.py

.PHONY: bench-trust
bench-trust: install ## Benchmark the audit ledger, PAdES signing and validation, the TSA and OCSP
	$(BIN)/python bench/trust.py

.PHONY: clean
clean: ## Remove the virtualenv, node_modules, build output and the demo data
	rm -rf $(VENV) node_modules src/egov/static/egov/dist var
