"""JSON Schema as the mock uses it: validating with pydantic's errors, generating valid instances,
and the ECMA-262 patterns both need."""
