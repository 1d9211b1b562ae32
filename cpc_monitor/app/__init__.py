"""The dashboard's Streamlit glue: settings, filters, caches, page header, downloads, the Data page."""
