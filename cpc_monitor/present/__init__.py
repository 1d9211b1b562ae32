"""Turning evaluated (and already suppressed) frames into what people read: charts, numbers, maps, CSV.
Nothing here calls Streamlit."""
