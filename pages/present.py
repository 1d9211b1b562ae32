"""Present: the briefing pack as slides for a projector (present/briefing.py), with its download."""
from cpc_monitor.app import present_page

present_page.show()
