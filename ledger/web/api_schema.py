"""The JSON API's OpenAPI 3.1 description, written as data (served at /api/v1/openapi.json).

tests/test_web_api.py keeps it and ledger/web/api.py's routes the same: every route described, nothing else.
"""

from __future__ import annotations

from typing import Any

PENCE = {"type": "integer", "description": "an amount in pence (whole minor units of GBP)"}
DAY = {"type": "string", "format": "date"}
REF = {"name": "ref", "in": "path", "required": True, "description": "the person's pseudonymous reference",
       "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"}}
FY = {"name": "fy", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1000, "maximum": 9999},
      "description": "the financial year by its starting year (2025 is 2025/26); default: the year holding today"}
KEY = {"name": "Idempotency-Key", "in": "header", "required": True,
       "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,64}$"},
       "description": "new for each spend, the same when retrying it: the spend is logged once; the same key "
                      "with different content is refused (409)"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": [p for p in properties if p not in optional], "additionalProperties": False}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


READ_ERRORS = {"401": _error("no token, or one unknown, revoked, or whose user is deactivated"),
               "404": _error("no such person among those the token may see"),
               "422": _error("bad input (e.g. fy not a year the ledger keeps)")}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "reason"], "additionalProperties": True,
              "description": "a refusal: a stable code, a one-line reason, and the numbers behind it (e.g. "
                             "cap, spent, requested, over_by for a spend over a line's cap)",
              "properties": {"error": {"type": "string"}, "reason": {"type": "string"}}},
    "Person": _object({"ref": {"type": "string"}, "nhs_number": {"type": ["string", "null"]},
                       "name": {"type": ["string", "null"]},
                       "budget_years": {"type": "array", "items": {"type": "string"}},
                       "brokers": {"type": "array", "items": {"type": "string"}}}),
    "People": _object({"people": {"type": "array", "items": _ref("Person")}}),
    "Stream": _object({"stream": {"type": "string"}, "allocated": PENCE, "spent": PENCE, "recovered": PENCE,
                       "held": PENCE, "available": PENCE}),
    "Budget": _object({"person": {"type": "string"}, "fy": {"type": "integer"},
                       "streams": {"type": "array", "items": _ref("Stream")},
                       "totals": _object({"allocated": PENCE, "spent": PENCE, "recovered": PENCE, "held": PENCE,
                                          "available": PENCE})}),
    "PlanLine": _object({"line": {"type": "string"}, "category": {"type": "string"},
                         "stream": {"type": ["string", "null"]}, "cap": PENCE, "cap_period": {"type": "string"},
                         "period_from": DAY, "period_to": DAY, "spent": PENCE, "left": PENCE, "planned": PENCE,
                         "committed": PENCE, "actual": PENCE}),
    "Plan": _object({"person": {"type": "string"}, "fy": {"type": "integer"}, "version": {"type": "integer"},
                     "on": DAY, "lines": {"type": "array", "items": _ref("PlanLine")}}),
    "SpendIn": _object({"line": {"type": "string", "minLength": 1, "maxLength": 40},
                        "pence": {**PENCE, "exclusiveMinimum": 0, "maximum": 10**11}, "date": DAY,
                        "supplier": {"type": "string", "minLength": 1, "maxLength": 200},
                        "evidence": {"type": "string", "minLength": 1, "maxLength": 200,
                                     "description": "a receipt, invoice or timesheet reference"}}),
    "Spend": _object({"id": {"type": "integer"}, "person": {"type": "string"}, "fy": {"type": "integer"},
                      "line": {"type": "string"}, "version": {"type": "integer"}, "pence": PENCE, "date": DAY,
                      "supplier": {"type": "string"}, "evidence": {"type": "string"}, "by": {"type": "string"},
                      "replayed": {"type": "boolean", "description": "true when the key had logged it before"}}),
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "ipb JSON API", "version": "1",
             "description": "Integrated personal budgets for integrations. Each token acts as one ipb user, with "
                            "that user's role and (for a broker) assigned people. Amounts are pence."},
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/openapi.json": {"get": {
            "summary": "this description", "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}}},
        "/api/v1/people": {"get": {
            "summary": "the people the token's user may see",
            "responses": {"200": _ok("by reference; NHS number and name only for roles that see who a person is",
                                     "People"), "401": READ_ERRORS["401"]}}},
        "/api/v1/people/{ref}/budget": {"get": {
            "summary": "a person's budget for a year: each stream allocated, spent, recovered, held, available",
            "parameters": [REF, FY], "responses": {"200": _ok("the streams and their totals", "Budget"),
                                                   **READ_ERRORS}}},
        "/api/v1/people/{ref}/plan": {"get": {
            "summary": "the plan in force: each line's cap for the current cap period, spent in it and left",
            "parameters": [REF, FY], "responses": {"200": _ok("the lines", "Plan"), **READ_ERRORS}}},
        "/api/v1/people/{ref}/spend": {"post": {
            "summary": "log spend against a line of the person's plan", "parameters": [REF, KEY],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("SpendIn")}}},
            "responses": {
                "201": _ok("logged", "Spend"), "200": _ok("logged before under this Idempotency-Key", "Spend"),
                **READ_ERRORS, "403": _error("the token's role may not log spend"),
                "409": _error("the Idempotency-Key was used for a different spend, or the ledger's rules refuse "
                              "it: over the line's cap (with cap, spent, requested, over_by), a closed period"),
                "413": _error("the body is larger than 16 KiB"),
                "422": _error("bad input: the body (with `fields`), the date, the line, a missing key")}}},
    },
    "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {
        "type": "http", "scheme": "bearer", "description": "an API token from `ipb user token issue`"}}},
}
