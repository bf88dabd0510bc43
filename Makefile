# Ecommerce churn: `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_CUSTOMERS ?= 15000  # keeps `make demo` under 2 minutes on 2 cores

.DEFAULT_GOAL := help
.PHONY: help install catalog demo test lint format clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(STAMP)

install: $(STAMP) ## create or update .venv with the project and its dev tools

catalog: $(STAMP) ## write the YAML and docs the feature catalog shapes (macros/feature_catalog.sql)
	$(BIN)/python -m featurestore

demo: catalog ## generate a demo shop, build the feature store, train and score
	$(BIN)/python -m seeds_gen --customers $(DEMO_CUSTOMERS) --dirty-rate 0.01 --truth --overwrite
	$(BIN)/dbt build --quiet
	$(BIN)/python -m modeling.train
	$(BIN)/python -m modeling.score
	$(BIN)/python -m modeling.demo_summary

test: catalog ## the whole suite: pytest, ruff, sqlfluff
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project

lint: $(STAMP) ## ruff and sqlfluff only
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## remove generated data, dbt artifacts, MLflow stores and reports (keeps .venv)
	rm -rf data target logs dbt_project/target dbt_project/logs mlflow.db mlruns mlartifacts reports
