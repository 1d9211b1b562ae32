"""From indicator definitions to numbers: the one SQL compiler, the engine, progress and suppression."""
