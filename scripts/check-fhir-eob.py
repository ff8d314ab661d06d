#!/usr/bin/env python3
"""Validates ExplanationOfBenefit resources from JoinIn with an independent FHIR library
(fhir.resources, R4B: the R4 technical correction, whose ExplanationOfBenefit is R4's) and checks
that the adjudication adds up: benefit + personal account + patient cash = submitted, per item and
in total. Usage: check-fhir-eob.py FILE..."""
import json
import sys
from decimal import Decimal

from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit


def amounts(adjudications):
    return {a["category"]["coding"][0]["code"]: Decimal(str(a["amount"]["value"])) for a in adjudications}


def check(path):
    raw = open(path, encoding="utf-8").read()
    eob = ExplanationOfBenefit.model_validate_json(raw)  # raises on any structural error
    assert eob.status in ("active", "cancelled"), eob.status
    assert eob.use == "claim" and eob.outcome == "complete"
    data = json.loads(raw, parse_float=Decimal)
    for item in data["item"]:
        a = amounts(item["adjudication"])
        assert a["submitted"] == Decimal(str(item["net"]["value"])), item
        assert a["benefit"] + a["personal-account"] + a["patient-cash"] == a["submitted"], item
        assert a["class-c-self-pay"] + a["class-b-self-pay"] + a["deductible"] + a["copay"] + a["over-cap"] + a["benefit"] == a["submitted"], item
    total = amounts(data["total"])
    assert total["submitted"] == sum(Decimal(str(i["net"]["value"])) for i in data["item"])
    assert Decimal(str(data["payment"]["amount"]["value"])) == total["benefit"] + total["personal-account"]
    print(f"{path}: valid FHIR R4(B) ExplanationOfBenefit, {len(data['item'])} items, submitted {total['submitted']} CNY, benefit {total['benefit']} CNY")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        check(name)
