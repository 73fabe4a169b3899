"""Checks descriptor files against HipChat's official descriptor schema (schema file beside this one).

Usage: python3 conformance.py FILE... ; prints one line per problem; exit 0 when all conform.
"""
import json, os, sys

import jsonschema

schema = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "descriptor.schema.json")))
validator = jsonschema.Draft7Validator(schema)
failed = 0
for path in sys.argv[1:]:
    for error in sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.absolute_path)):
        print(f"{path}: {'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message[:300]}")
        failed = 1
sys.exit(failed)
