"""Checks JSON instances against a JSON Schema (draft-07) with Python's jsonschema.

Usage: python3 instance.py SCHEMA.json INSTANCE.json... ; exit 0 when all are valid.
"""
import json, sys

import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
failed = 0
for path in sys.argv[2:]:
    for error in validator.iter_errors(json.load(open(path))):
        print(f"{path}: {'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message[:200]}")
        failed = 1
sys.exit(failed)
