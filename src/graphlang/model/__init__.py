"""The languageProficiency resource: its enums, properties, validation and JSON shape."""
