"""Edit indicators: change the indicator file (in the file itself, or with the target and
new-indicator forms), check it, preview it on the current data, save it, and bring back
an earlier version. Editors only; cpc_monitor/app/editor_page.py draws it."""
from cpc_monitor.app import editor_page

editor_page.render()
