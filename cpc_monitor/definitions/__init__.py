"""The indicator file: safe YAML loading with lines, the models that validate it, its JSON Schema."""
