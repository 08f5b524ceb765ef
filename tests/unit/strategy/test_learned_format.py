"""The strategy format's learned layer: ``entry_conditions.regime_filter`` and ``inference.model``. A file with
the new fields validates, round-trips and passes the JSON Schema; a wrong regime name is answered with the model's
valid names at its JSON path; options of the other model are refused where they stand; unset, the new fields leave
every existing strategy's dump, and so its id, as it was; resolved, they are written out."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from quantdesk.domain.ids import derived_id
from quantdesk.strategy.load import parse_strategy, strategy_json_schema, validate_data
from quantdesk.strategy.templates import list_templates, load_template, template_text

# the ids of the library as they were before the learned layer (derived_id of the strategy's model_dump_json)
TEMPLATE_IDS = {
    "carry_trade": "cd79ffc5-7f8d-5d89-8310-15d69d695888",
    "earnings_play": "9d9fd53a-bf05-5861-a7ae-079ad8b6e122",
    "ema_cross": "9c4cee44-6947-5fc5-92cc-83db4bee7c14",
    "mean_reversion": "fc16a26d-089c-572a-926a-30fd72e09f4f",
    "momentum_breakout": "3df41a85-a9da-5c9a-8e8a-1f0898d4f563",
    "plan_example": "b4896d1f-b04f-531e-b69d-65b032c0f2d8",
    "trend_following": "a3572ffa-d177-5ce6-b4fc-cee603964622",
}
# ema_cross with an inference block (a Bayesian floor): its id before the learned layer
BAYES_INFERENCE = {"horizon": "5_bars", "min_labels": 30, "min_posterior": 0.5}
BAYES_INFERENCE_ID = "9b3fed69-6731-5858-8f71-0f23537c7986"


def ema_cross(**entry: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(template_text("ema_cross"))
    doc["entry_conditions"].update(entry)
    return doc


LEARNED = ema_cross(
    regime_filter={"model": "hmm", "allowed": ["bull", "high_volatility"], "n_states": 3, "train_bars": "expanding",
                   "refit_every_bars": 500},
    inference={"horizon": "10_bars", "model": "gradient_boosting", "calibration": "sigmoid", "refit_every_bars": 300,
               "min_posterior": 0.55},
)  # fmt: skip


def _problems(doc: dict[str, Any]) -> list[str]:
    return [str(p) for p in validate_data(doc).problems]


def test_a_strategy_with_the_learned_fields_validates_round_trips_and_fits_the_schema() -> None:
    strategy = parse_strategy(json.dumps(LEARNED))
    rule, inference = strategy.entry_conditions.regime_filter, strategy.entry_conditions.inference
    assert rule is not None and inference is not None
    assert (rule.model, rule.allowed, rule.n_states, rule.train_bars) == ("hmm", ["bull", "high_volatility"], 3,
                                                                          "expanding")  # fmt: skip
    assert (inference.model, inference.calibration, inference.refit_every_bars) == ("gradient_boosting", "sigmoid", 300)
    assert parse_strategy(strategy.to_json()) == strategy
    schema = strategy_json_schema()
    jsonschema.validate(LEARNED, schema, cls=jsonschema.Draft202012Validator)
    assert set(schema["$defs"]["RegimeFilter"]["properties"]) == {
        "model", "n_states", "train_bars", "min_train_bars", "refit_every_bars", "vol_bars", "allowed",
    }  # fmt: skip
    assert schema["$defs"]["InferenceSettings"]["properties"]["model"]["enum"] == ["bayes", "gradient_boosting"]
    with pytest.raises(ValidationError, match="frozen"):
        rule.model = "rules"  # type: ignore[misc]


def test_a_wrong_regime_name_is_answered_with_the_models_names_at_its_path() -> None:
    assert _problems(ema_cross(regime_filter={"model": "rules", "allowed": ["bull"]})) == [
        "entry_conditions.regime_filter.allowed: expected regimes of model 'rules' (trending_up, trending_down, "
        "mean_reverting, high_volatility), found ['bull']"
    ]
    assert _problems(ema_cross(regime_filter={"model": "hmm", "allowed": ["calm", "bull"]})) == [
        "entry_conditions.regime_filter.allowed: expected regimes of model 'hmm' with 2 states (calm, "
        "high_volatility), found ['bull']"
    ]
    four = _problems(ema_cross(regime_filter={"model": "hmm", "n_states": 4, "allowed": ["trending_up"]}))
    assert four == [
        "entry_conditions.regime_filter.allowed: expected regimes of model 'hmm' with 4 states (bull, neutral, bear, "
        "high_volatility), found ['trending_up']"
    ]
    model = _problems(ema_cross(regime_filter={"model": "markov", "allowed": ["calm"]}))
    assert model == ["entry_conditions.regime_filter.model: Input should be 'rules' or 'hmm', found 'markov'"]


def test_every_problem_of_the_learned_fields_is_reported_at_once_where_it_stands() -> None:
    doc = ema_cross(
        regime_filter={"model": "rules", "allowed": ["mean_reverting"], "n_states": 3, "states": 3},
        inference={"calibration": "platt", "refit_every_bars": 0},
    )
    assert sorted(_problems(doc)) == [
        "entry_conditions.inference.calibration: Input should be 'isotonic' or 'sigmoid', found 'platt'",
        "entry_conditions.inference.refit_every_bars: Input should be greater than or equal to 1, found 0",
        "entry_conditions.regime_filter.n_states: an option of model 'hmm', found with model 'rules' (value 3)",
        "entry_conditions.regime_filter.states: unknown key (not part of the strategy format)",
    ]
    assert _problems(ema_cross(inference={"calibration": "sigmoid"})) == [
        "entry_conditions.inference.calibration: an option of model 'gradient_boosting', found with model 'bayes' "
        "(value 'sigmoid')"
    ]
    assert _problems(ema_cross(inference={"model": "gradient_boosting", "min_labels": 20})) == [
        "entry_conditions.inference: min_labels: model 'gradient_boosting' calibrates on 3 time-ordered folds and "
        "needs at least 30 outcomes, found 20"
    ]
    window = ema_cross(regime_filter={"model": "hmm", "allowed": ["calm"], "train_bars": 100})
    assert _problems(window) == [
        "entry_conditions.regime_filter: train_bars (100) must hold the first fit's min_train_bars (250)"
    ]
    assert _problems(ema_cross(regime_filter={"model": "hmm", "allowed": ["calm"], "train_bars": "all"})) == [
        "entry_conditions.regime_filter.train_bars: expected a number of bars from 20 to 100000, or 'expanding', "
        "found 'all'"
    ]


@pytest.mark.parametrize("key", sorted(TEMPLATE_IDS))
def test_unset_the_new_fields_leave_every_templates_dump_and_id_as_it_was(key: str) -> None:
    strategy = load_template(key)
    dump = strategy.model_dump_json()
    assert '"regime_filter"' not in dump and '"calibration"' not in dump and '"gradient_boosting"' not in dump
    assert derived_id("strategy/" + dump) == TEMPLATE_IDS[key]
    assert "regime_filter" not in strategy.resolved_document()["entry_conditions"]
    assert {t.key for t in list_templates()} == set(TEMPLATE_IDS)


def test_a_bayesian_inference_block_dumps_and_identifies_as_before() -> None:
    strategy = parse_strategy(json.dumps(ema_cross(inference=BAYES_INFERENCE)))
    dump = strategy.model_dump_json()
    assert '"inference":{"horizon":"5_bars","min_return":0.0,"min_labels":30,"window_labels":null,' \
           '"min_posterior":0.5}' in dump  # fmt: skip
    assert derived_id("strategy/" + dump) == BAYES_INFERENCE_ID
    assert strategy.resolved_document()["entry_conditions"]["inference"] == {
        "horizon": "5_bars", "min_return": 0.0, "min_labels": 30, "window_labels": None, "min_posterior": 0.5,
    }  # fmt: skip


def test_resolved_the_learned_fields_carry_their_defaults_and_resolve_to_themselves() -> None:
    strategy = parse_strategy(json.dumps(ema_cross(regime_filter={"model": "hmm", "allowed": ["calm"]},
                                                   inference={"model": "gradient_boosting"})))  # fmt: skip
    entry = strategy.resolved_document()["entry_conditions"]
    assert entry["regime_filter"] == {"model": "hmm", "n_states": 2, "train_bars": 1000, "min_train_bars": 250,
                                      "refit_every_bars": 250, "vol_bars": 20, "allowed": ["calm"]}  # fmt: skip
    assert (entry["inference"]["model"], entry["inference"]["calibration"], entry["inference"]["refit_every_bars"]) == (
        "gradient_boosting", "isotonic", 250,
    )  # fmt: skip
    again = parse_strategy(json.dumps(strategy.resolved_document()))
    assert again.resolved_document() == strategy.resolved_document()
    rules = parse_strategy(json.dumps(ema_cross(regime_filter={"model": "rules", "allowed": ["trending_up"]})))
    assert rules.resolved_document()["entry_conditions"]["regime_filter"] == {"model": "rules",
                                                                              "allowed": ["trending_up"]}  # fmt: skip
