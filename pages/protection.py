"""Protection: victims identified, National Referral Mechanism timeliness, the child-friendly
spaces and the parish map, as the indicator file's `figures: protection:` declares them."""
from cpc_monitor.app import figure_page

figure_page.render("protection", "Protection", "victims, referral to care, child-friendly spaces", ("protection",))
